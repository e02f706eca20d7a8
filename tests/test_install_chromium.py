"""tools/install-chromium, the browser step of `make test`, on machines without chromium.

The recipe once broke on every fresh machine (`$SUDO VAR=value cmd` with an empty $SUDO puts
the assignment in the command position) while CI stayed green on a machine that already had
chromium. These tests run the install path with stub `apt-get`, `sudo` and `id` commands that
record their arguments, so the bug class is caught wherever the suite runs.
"""
import os
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "install-chromium"

APT_GET = """#!/bin/bash
echo "apt-get $* DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset}" >> "$STUB_LOG"
if [ "$1" = install ] || [ "$2" = install ] || [[ " $* " == *" install "* ]]; then
  printf '#!/bin/sh\\n' > "$RAYINT_CHROMIUM"; chmod +x "$RAYINT_CHROMIUM"
fi
"""
SUDO = """#!/bin/bash
echo "sudo $*" >> "$STUB_LOG"
exec "$@"
"""


def stub(folder: Path, name: str, text: str):
    path = folder / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run(tmp_path, stubs: dict, **env):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in stubs.items():
        stub(bin_dir, name, text)
    full = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STUB_LOG": str(tmp_path / "log"),
            "RAYINT_CHROMIUM": str(tmp_path / "chromium"), "HOME": str(tmp_path), **env}
    if "SUDO" in env and env["SUDO"] is None:
        del full["SUDO"]
    out = subprocess.run(["bash", str(SCRIPT)], env=full, capture_output=True, text=True,
                         timeout=60)
    log = (tmp_path / "log").read_text() if (tmp_path / "log").exists() else ""
    return out, log


def test_the_script_parses():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_as_root_apt_get_runs_with_the_variable_in_its_environment(tmp_path):
    out, log = run(tmp_path, {"apt-get": APT_GET}, SUDO="")
    assert out.returncode == 0, out.stderr
    assert "apt-get update -qq" in log
    assert "apt-get install -y -qq chromium DEBIAN_FRONTEND=noninteractive" in log
    assert "sudo" not in log


def test_with_sudo_every_apt_get_goes_through_sudo(tmp_path):
    out, log = run(tmp_path, {"apt-get": APT_GET, "sudo": SUDO}, SUDO="sudo")
    assert out.returncode == 0, out.stderr
    assert "sudo apt-get update -qq" in log
    assert "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium" in log
    assert "DEBIAN_FRONTEND=noninteractive\n" in log  # reached apt-get's environment


def test_a_normal_user_gets_sudo_chosen_for_them(tmp_path):
    out, log = run(tmp_path, {"apt-get": APT_GET, "sudo": SUDO, "id": "#!/bin/sh\necho 1000\n"},
                   SUDO=None)
    assert out.returncode == 0, out.stderr
    assert log.startswith("sudo apt-get update")


@pytest.mark.parametrize("stubs", [
    {"id": "#!/bin/sh\necho 1000\n"},                        # no sudo, not root
    {"id": "#!/bin/sh\necho 0\n"},                           # root, but no apt-get
], ids=["no-sudo", "no-apt-get"])
def test_without_a_way_to_install_it_fails_at_once_with_one_sentence(tmp_path, stubs):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env", "cat"):  # a PATH without apt-get or sudo
        os.symlink(f"/bin/{tool}" if Path(f"/bin/{tool}").exists() else f"/usr/bin/{tool}",
                   bin_dir / tool)
    out, log = run(tmp_path, stubs, SUDO=None, PATH=str(bin_dir))
    assert out.returncode != 0 and log == ""
    assert "apt-get install -y chromium" in out.stderr and out.stderr.count("\n") == 1


def test_nothing_happens_when_chromium_is_there(tmp_path):
    (tmp_path / "chromium").write_text("#!/bin/sh\n")
    (tmp_path / "chromium").chmod(0o755)
    out, log = run(tmp_path, {"apt-get": APT_GET}, SUDO="")
    assert out.returncode == 0 and log == ""
