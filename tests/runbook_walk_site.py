"""The walk's centre and kiosks: child processes, card folders, and how each step is run and recorded.

Used by tests/test_runbook_walk.py (see its docstring). `Walk` keeps the state of one walk: the test's ports, the
path mapping, the transcript, Mosquitto, `enrol-serve`, `serve` and each kiosk's `kiosk run`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from central_broker.broker import free_port
from central_broker.cli import main
from tests.provisioning_cli import wait_listening
from tests.runbook_walk import Mapping, RunbookCommand, Transcript, find_line, section_commands

__all__ = [
    "BRANCH",
    "BRANCH_SECTIONS",
    "CARD_SEED",
    "IMAGE_BIN",
    "OPERATOR",
    "VENV_BIN",
    "Walk",
    "branch",
    "branch_command",
]

DOCS = Path(__file__).resolve().parents[1] / "docs"

OPERATOR, BRANCH = DOCS / "runbook-operator.md", DOCS / "runbook-branch-office.md"
REPO = DOCS.parent
IMAGE_BIN = REPO / "provisioning/image/stage-kiosk/01-system/files/bin"
CARD_SEED = REPO / "provisioning/image/scripts/kiosk-card-seed.sh"
VENV_BIN = Path(sys.executable).parent
BRANCH_SECTIONS = ("1.", "2.", "3.", "4.")


def branch(phrase: str) -> str:
    """`docs/runbook-branch-office.md:LINE` of the line saying `phrase`."""
    return f"docs/runbook-branch-office.md:{find_line(BRANCH, phrase)}"


def branch_command(program: str) -> RunbookCommand:
    """The branch runbook's command starting with `program`."""
    found = [c for c in section_commands(BRANCH, BRANCH_SECTIONS) if c.text.startswith(program)]
    assert found, f"docs/runbook-branch-office.md no longer names `{program} …`"
    return found[0]


class Walk:
    """The centre and the kiosks of one walk, and what it did so far."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.capsys = root, capsys
        self.enrol_port, self.device_port, self.service_port = free_port(), free_port(), free_port()
        self.map = Mapping(root, urls={
            "https://enrol.city.example:8443": f"https://127.0.0.1:{self.enrol_port}",
            "mqtts://broker.city.example:8883": f"mqtts://127.0.0.1:{self.device_port}",
            "mqtts://broker.city.example:8884": f"mqtts://127.0.0.1:{self.service_port}",
        })  # fmt: skip
        self.log = Transcript(root)
        self.pki = self.map.path("/var/lib/madoguchi/pki")
        self.broker_dir = self.map.path("/etc/mosquitto/madoguchi")
        self.central_toml = self.map.path("/etc/madoguchi/central.toml")
        self.broker: subprocess.Popen[bytes] | None = None
        self.broker_config_line = ""
        self.logs: list[IO[bytes]] = []
        self.enrol_serve: subprocess.Popen[bytes] | None = None
        self.serve: subprocess.Popen[bytes] | None = None
        self.web_port = free_port()
        self.kiosks: dict[str, subprocess.Popen[bytes]] = {}  # card folder → its `kiosk run`
        self.issued: dict[str, dict[str, str]] = {}  # device id → its pairing code and token
        self.cards = 0
        self.identity_of: dict[str, Path] = {}  # device id → identity folder of its latest card

    # --- the centre -------------------------------------------------------------------------------------------

    def central(self, command: RunbookCommand, argv: list[str] | None = None, check: str = "") -> str:
        """Run one `kiosk-central` line in-process; fail naming its runbook line unless it exits 0."""
        argv = argv or self.map.argv(command)
        self.capsys.readouterr()
        code = main(argv[1:])
        out, err = self.capsys.readouterr()
        self.log.ran(command.where, command.text, argv, code, out + err, check)
        assert code == 0, f"{command.where}: `{command.text}` → exit {code}\n{out}\n{err}"
        return out

    def write_broker_config(self, command: RunbookCommand) -> None:
        """`broker config` on the test's ports and 127.0.0.1; Mosquitto starts before the next step needing it."""
        argv = [*self.map.argv(command), "--port", str(self.device_port), "--service-port", str(self.service_port),
                "--bind", "127.0.0.1"]  # fmt: skip
        self.central(command, argv, "mosquitto.conf written; the test's ports and 127.0.0.1 added")
        self.broker_config_line = command.where

    def ensure_broker(self) -> None:
        """Mosquitto on the written mosquitto.conf, as the mosquitto service runs it (dropping to its user)."""
        if self.broker is not None or not self.broker_config_line:
            return
        conf = self.broker_dir / "mosquitto.conf"
        self.broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=self.log_file("mosquitto"))
        self.started(self.broker, self.device_port, "mosquitto", self.broker_config_line)
        self.log.note(self.broker_config_line, f"`mosquitto -c {conf}` (the mosquitto service pointed at it): "
                      f"listening on 127.0.0.1:{self.device_port} (devices) and :{self.service_port} (services), "
                      "as the mosquitto user it drops to")  # fmt: skip

    def stop_broker(self) -> str:
        """Stop Mosquitto as its service would (SIGTERM: it saves its persistence); returns its log."""
        assert self.broker is not None
        self.broker.terminate()
        self.broker.wait(timeout=10)
        self.broker = None
        return (self.root / "logs" / "mosquitto.log").read_text(errors="replace")

    def log_file(self, name: str) -> IO[bytes]:
        """A file in the walk folder for a child process's log (a pipe nobody reads could fill and block it)."""
        (self.root / "logs").mkdir(exist_ok=True)
        handle = (self.root / "logs" / f"{name}.log").open("wb")
        self.logs.append(handle)
        return handle

    def started(self, proc: subprocess.Popen[bytes], port: int, name: str, where: str) -> None:
        """Wait until `proc` listens on `port`; fail naming the runbook line and with its log otherwise."""
        try:
            wait_listening(proc, port, name)
        except RuntimeError:
            log = (self.root / "logs" / f"{name}.log").read_text(errors="replace")
            raise AssertionError(f"{where}: {name} did not start:\n{log}") from None

    def start_enrol_serve(self, command: RunbookCommand) -> None:
        """`enrol-serve` as a child process on a free loopback port instead of 0.0.0.0:8443."""
        argv = self.map.argv(command)
        argv[argv.index("--host") + 1] = "127.0.0.1"
        argv[argv.index("--port") + 1] = str(self.enrol_port)
        self.enrol_serve = subprocess.Popen([str(VENV_BIN / "kiosk-central"), *argv[1:]], env=self.env,
                                            stdout=subprocess.DEVNULL, stderr=self.log_file("enrol-serve"))  # fmt: skip
        self.started(self.enrol_serve, self.enrol_port, "enrol-serve", command.where)
        self.log.ran(
            command.where, command.text, argv, 0, "", f"listening on 127.0.0.1:{self.enrol_port} (HTTPS)"
        )

    def start_serve(self, command: RunbookCommand) -> None:
        """`serve` as a child process, its dashboard on a free loopback port instead of 8080."""
        argv = [*self.map.argv(command), "--web-port", str(self.web_port)]
        self.serve = subprocess.Popen([str(VENV_BIN / "kiosk-central"), *argv[1:]], env=self.env,
                                      stdout=subprocess.DEVNULL, stderr=self.log_file("serve"))  # fmt: skip
        self.started(self.serve, self.web_port, "serve", command.where)
        store = self.map.path("/var/lib/madoguchi/central.db")
        assert store.is_file(), f"{command.where}: serve created no central store at {store}"
        self.log.ran(command.where, command.text, argv, 0, "",
                     f"running; dashboard on 127.0.0.1:{self.web_port}; central store {store} created")  # fmt: skip

    def enrol_token(self, command: RunbookCommand, device: str) -> Path:
        """`enrol-token` for `device`; returns the enrol.json it wrote."""
        words = {"jp-131016-k03": device, "/tmp/jp-131016-k03/enrol.json": f"/tmp/{device}/enrol.json"}
        argv = self.map.argv(RunbookCommand(command.runbook, command.line, command.section,
                                            " ".join(words.get(w, w) for w in command.words)))  # fmt: skip
        self.capsys.readouterr()
        code = main(argv[1:])
        out, err = self.capsys.readouterr()
        assert code == 0, f"{command.where}: `{command.text}` → exit {code}\n{out}\n{err}"
        code_match, token_match = re.search(r"pairing code: (\S+)", out), re.search(r"token: (\S+)", out)
        assert code_match and token_match, f"{command.where}: no pairing code or token printed\n{out}"
        self.log.secrets += [token_match.group(1), code_match.group(1)]
        enrol_json = self.map.path(f"/tmp/{device}/enrol.json")
        self.issued[device] = {"pairing_code": code_match.group(1), "token": token_match.group(1)}
        promised = json.loads(enrol_json.read_text(encoding="utf-8"))
        assert promised["device_id"] == device and promised["central_url"].endswith(f":{self.enrol_port}"), (
            f"{command.where}: enrol.json does not hold the device id and central URL: {promised}"
        )
        assert "ca_fingerprint" in promised and "fleet_root_id" in promised, f"{command.where}: {promised}"
        self.log.ran(command.where, command.text, argv, code, out,
                     "enrol.json holds device_id, token, central_url, ca_fingerprint, fleet_root_id (0600)")  # fmt: skip
        assert enrol_json.stat().st_mode & 0o777 == 0o600
        return enrol_json

    def write_central_toml(self, where: str) -> None:
        """central.toml from provisioning/data/central.example.toml, identities filled in as the runbook's table says."""
        text = (REPO / "provisioning/data/central.example.toml").read_text(encoding="utf-8")
        text = re.sub(r"^# (ca_file|cert_file|key_file|\[broker\.identities\.)", r"\1", text, flags=re.M)
        text = re.sub(
            r'^url = ".*"$', f'url = "mqtts://127.0.0.1:{self.service_port}"', text, count=1, flags=re.M
        )
        text = re.sub(r'"(/[^"]*)"', lambda m: f'"{self.map.path(m.group(1))}"', text)
        text = text.replace(
            "sqlite:////var/lib/madoguchi/", f"sqlite:///{self.map.path('/var/lib/madoguchi')}/"
        )
        self.central_toml.parent.mkdir(parents=True, exist_ok=True)
        self.central_toml.write_text(text, encoding="utf-8")
        self.log.note(where, "central.toml written from `provisioning/data/central.example.toml`: the "
                      "`[broker]` url set to the service listener, its `ca_file`/`cert_file`/`key_file` (svc-ingest) "
                      "and `[broker.identities.rpc]`/`[broker.identities.catalog]` uncommented, as the table says")  # fmt: skip

    @property
    def env(self) -> dict[str, str]:
        """The environment of the centre's commands: the documented defaults, moved under the walk folder."""
        return {**os.environ, "MADOGUCHI_DATA_DIR": str(self.map.path("/var/lib/madoguchi")),
                "MADOGUCHI_PKI_DIR": str(self.pki)}  # fmt: skip

    def mosquitto_pid(self) -> int:
        """The broker's process id (`$(pidof mosquitto)`)."""
        assert self.broker is not None and self.broker.poll() is None, "Mosquitto is not running"
        return self.broker.pid

    def stop(self) -> None:
        """Stop the child processes this walk started."""
        for proc in (*self.kiosks.values(), self.serve, self.enrol_serve, self.broker):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        for handle in self.logs:
            handle.close()

    # --- the kiosks -------------------------------------------------------------------------------------------

    def new_card(self, with_image_root: bool) -> Path:
        """A kiosk's card as folders: bootfs, the image's /etc/madoguchi and factory release, an empty /data."""
        self.cards += 1
        card = self.root / f"card-{self.cards}"
        etc = card / "etc/madoguchi"
        etc.mkdir(parents=True)
        shutil.copyfile(self.pki / "root/root.pem", etc / "root.pem")  # KIOSK_ROOT_CA
        if with_image_root:  # KIOSK_FLEET_ROOT_KEYS
            (etc / "fleet-root").mkdir()
            shutil.copyfile(self.map.path("/var/lib/madoguchi/signing/root.pub"), etc / "fleet-root/root.pub")
        factory = card / "opt/madoguchi/releases/0.1.0"
        (factory / "venv/bin").mkdir(parents=True)
        (factory / "manifest.json").write_text("{}", encoding="utf-8")
        (factory / "venv/bin/kiosk").symlink_to(VENV_BIN / "kiosk")
        (card / "boot/firmware").mkdir(parents=True)
        (card / "data").mkdir()
        return card

    @staticmethod
    def card_env(card: Path) -> dict[str, str]:
        """The environment of the image's scripts for `card`: their KIOSK_* paths in its folders, owner root."""
        return {**os.environ, "KIOSK_DATA_DIR": str(card / "data"), "KIOSK_OWNER": "root",
                "KIOSK_FACTORY_DIR": str(card / "opt/madoguchi/releases"),
                "KIOSK_FLEET_ROOT_DIR": str(card / "etc/madoguchi/fleet-root"),
                "KIOSK_TOKEN_FILE": str(card / "boot/firmware/kiosk/enrol.json"),
                "KIOSK_CA_FILE": str(card / "etc/madoguchi/root.pem")}  # fmt: skip

    def script(self, where: str, written: str, card: Path, argv: list[str], check: str, **env: str) -> str:
        """Run one of the image's scripts as its unit would, with the KIOSK_* paths of `card`."""
        run_env = {**self.card_env(card), **env}
        result = subprocess.run(argv, env=run_env, capture_output=True, text=True, timeout=180, check=False)
        self.log.ran(where, written, argv, result.returncode, result.stdout + result.stderr, check)
        assert result.returncode == 0, (
            f"{where}: `{written}` → exit {result.returncode}\n{result.stdout}{result.stderr}"
        )
        return result.stdout + result.stderr

    def start_kiosk(self, card: Path) -> None:
        """kiosk-ui.service's ExecStart for `card`, with `--ui off` (no display): the kiosk's fleet link."""
        unit = (IMAGE_BIN.parent / "units/kiosk-ui.service").read_text(encoding="utf-8")
        exec_start = re.search(r"^ExecStart=(.+)$", unit, flags=re.M)
        assert exec_start, "kiosk-ui.service has no ExecStart"
        command = exec_start.group(1).replace(" --fullscreen", "")
        words = (
            command.replace("--ui on", "--ui off").split()
            if "--ui on" in command
            else [*command.split(), "--ui", "off"]
        )
        argv = [str(card / w.removeprefix("/")) if w.startswith("/data/") else w for w in words]
        self.kiosks[card.name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log.note(branch("The kiosk screen starts"), f"kiosk-ui.service's `{exec_start.group(1)}` ran as "
                      f"`{self.log.clean(' '.join(argv))}`: no display, so the fleet link alone (`--ui off`)")  # fmt: skip

    def stop_kiosk(self, card: Path) -> None:
        """Switch a kiosk off (its `kiosk run` ends)."""
        proc = self.kiosks.pop(card.name)
        proc.terminate()
        proc.wait(timeout=10)

    def fleet(self, *extra: str) -> tuple[list[str], str]:
        """`kiosk-central fleet --config central.toml [extra]` in-process: (argv, output)."""
        argv = ["kiosk-central", "fleet", "--config", str(self.central_toml), *extra]
        self.capsys.readouterr()
        assert main(argv[1:]) == 0, self.capsys.readouterr().err
        return argv, self.capsys.readouterr().out

    def confirm_online(self, device: str, where: str, written: str = "") -> None:
        """Wait until the fleet view shows `device` online in its branch (the dashboard's check)."""
        deadline = time.monotonic() + 30
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            devices = json.loads(self.fleet("--json")[1])["devices"]
            status = next((d for d in devices if d["device_id"] == device), {})
            if status.get("status") == "online":
                break
            time.sleep(0.3)
        assert (status.get("status"), status.get("branch")) == ("online", "本庁舎"), (
            f"{where}: {device} is not shown online in its branch: {status}"
        )
        argv, table = self.fleet()
        self.log.ran(where, written or "kiosk-central fleet", argv, 0,
                     "\n".join(line for line in table.splitlines() if line.startswith(("BRANCH", "本庁舎"))),
                     f"{device} online, branch 本庁舎 (device health not checked: no card reader, printer or "
                     "payment terminal is attached, and `--ui off` runs no device monitoring)")  # fmt: skip

    def publish(self, identity: Path) -> subprocess.CompletedProcess[str]:
        """One MQTT publish on the device listener with the identity files in `identity`."""
        return subprocess.run(
            ["mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", str(self.device_port),
             "--cafile", str(identity / "ca.pem"), "--cert", str(identity / "chain.pem"),
             "--key", str(identity / "key.pem"), "-t", "kiosk/v1/probe", "-m", "{}"],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
