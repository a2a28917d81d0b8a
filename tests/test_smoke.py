"""Every demo account can sign in on the web and the API and sees the home page."""
import pytest

from conftest import ROLE_USERS

DEMO_USERNAMES = ["admin", "clerk_fin", "head_fin", "clerk_mkt", "head_mkt", "it_staff",
                  "it_staff2", "it_head", "expert", "expert2", "manager", "auditor"]


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_demo_account_can_log_in_on_web_and_api(login_as, api_as, username):
    client = login_as(username)
    home = client.get("/")
    assert home.status_code == 200
    assert "信息系统归口管理平台" in home.get_data(as_text=True)
    api_client, headers = api_as(username)
    assert api_client.get("/api/v1/information_system/", headers=headers).status_code == 200


def test_wrong_password_is_refused(client):
    from conftest import login

    response = login(client, "clerk_fin", "wrong-Password-1")
    assert response.status_code == 302
    assert "/login/" in response.headers["Location"]
    assert client.get("/projectrequestview/list/").status_code == 302


def test_roles_cover_every_declared_role():
    assert set(ROLE_USERS) == {"Admin", "Clerk", "DeptHead", "ITStaff", "Expert",
                               "Management", "Auditor"}
