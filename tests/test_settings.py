"""Production settings pass Django's deployment checks; secrets come from the environment."""

import os
import subprocess
import sys


def run_check(env_extra):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "problembild.settings.production", **env_extra}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_check(
        {
            "SECRET_KEY": "x" * 20 + "Z9!kq#3Lm@pW7rT2vB8nC4yH6jD1sF5gA0eQ",
            "PROBLEMBILD_DATA_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = run_check({"SECRET_KEY": "", "PROBLEMBILD_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
