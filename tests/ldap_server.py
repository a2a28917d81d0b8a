"""A real OpenLDAP server for the tests: Debian's slapd, configured in a temporary
directory (slapd.conf), loaded with slapadd, listening on a free loopback port.

The tree: ou=people (inetOrgPerson, userPassword, departmentNumber), ou=groups
(groupOfNames); the memberof overlay keeps each person's memberOf in step with the
groups, as Active Directory does, so ``AUTH_LDAP_GROUP_FIELD = "memberOf"`` serves both.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
BASE = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret"
READER_DN = f"cn=reader,{BASE}"
READER_PASSWORD = "reader-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
TLSCertificateFile {root}/server.crt
TLSCertificateKeyFile {root}/server.key

database mdb
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {root}/data
maxsize 10485760
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by * read
"""


def _die_with_parent():
    """slapd (run in the foreground, -d 0) ends with the test run, however it ends."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def available():
    return all(os.access(path, os.X_OK) for path in (SLAPD, SLAPADD))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def person(uid, given, surname, password, department=None, groups=(), extra=()):
    """A person's entry; ``groups``: the cn of each group (slapadd bypasses the memberof
    overlay, so the tree states memberOf as the overlay would keep it)."""
    lines = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson", f"uid: {uid}",
             f"cn: {surname}{given}", f"givenName: {given}", f"sn: {surname}",
             f"mail: {uid}@example.com", f"userPassword: {password}"]
    if department:
        lines.append(f"departmentNumber: {department}")
    lines += [f"memberOf: cn={cn},{GROUPS}" for cn in groups]
    lines += list(extra)
    return "\n".join(lines)


def group(cn, members):
    """A group; the reader account is a member of each, so none is ever empty
    (groupOfNames needs a member)."""
    return "\n".join([f"dn: cn={cn},{GROUPS}", "objectClass: groupOfNames", f"cn: {cn}",
                      f"member: {READER_DN}"]
                     + [f"member: uid={uid},{PEOPLE}" for uid in members])


class Slapd:
    """slapd in ``root`` with the entries of ``ldif``; ``start()``, ``stop()``."""

    def __init__(self, root, ldif):
        self.root = root
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        # ldaps:// too, with a self-signed certificate for 127.0.0.1 (its own CA file).
        self.tls_port = free_port()
        self.tls_url = f"ldaps://127.0.0.1:{self.tls_port}"
        self.cafile = os.path.join(root, "server.crt")
        self.process = None
        os.makedirs(os.path.join(root, "data"), exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(root, "server.key"), "-out", self.cafile],
                       check=True, capture_output=True)
        self.conf = os.path.join(root, "slapd.conf")
        with open(self.conf, "w") as handle:
            handle.write(SLAPD_CONF.format(root=root, base=BASE, root_dn=ROOT_DN,
                                           root_password=ROOT_PASSWORD))
        base = "\n\n".join([
            f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
            "o: Example",
            f"dn: {READER_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\n"
            f"cn: reader\nsn: reader\nuserPassword: {READER_PASSWORD}",
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
            f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        ])
        path = os.path.join(root, "tree.ldif")
        with open(path, "w") as handle:
            handle.write(base + "\n\n" + ldif.strip() + "\n")
        subprocess.run([SLAPADD, "-f", self.conf, "-l", path], check=True,
                       capture_output=True)

    def start(self):
        self.process = subprocess.Popen(
            [SLAPD, "-f", self.conf, "-h", f"{self.url} {self.tls_url}", "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("slapd did not start")
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("slapd did not listen in time")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------ changing the tree

    def admin(self):
        import ldap

        con = ldap.initialize(self.url)
        con.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
        return con

    def set_attribute(self, uid, attribute, values):
        import ldap

        con = self.admin()
        try:
            con.modify_s(f"uid={uid},{PEOPLE}", [(ldap.MOD_REPLACE, attribute,
                                                  [v.encode() for v in values] or None)])
        finally:
            con.unbind_s()

    def move_member(self, uid, from_group, to_group):
        import ldap

        con = self.admin()
        member = f"uid={uid},{PEOPLE}".encode()
        try:
            if from_group:
                con.modify_s(f"cn={from_group},{GROUPS}", [(ldap.MOD_DELETE, "member", [member])])
            if to_group:
                con.modify_s(f"cn={to_group},{GROUPS}", [(ldap.MOD_ADD, "member", [member])])
        finally:
            con.unbind_s()

    def remove_person(self, uid):
        con = self.admin()
        try:
            con.delete_s(f"uid={uid},{PEOPLE}")
        finally:
            con.unbind_s()
