"""Build a migrated, demo-seeded app for benchmarks (no pytest involved)."""
import config


def make_app(url):
    from app import create_app

    cfg = type("BenchConfig", (config.TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(cfg)
    with app.app_context():
        from flask_migrate import upgrade

        from seeds import load_reference
        from seeds.demo import load_demo

        upgrade()
        load_reference()
        load_demo()
    return app
