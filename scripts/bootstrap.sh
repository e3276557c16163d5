#!/usr/bin/env bash
# Set up everything Madoguchi needs on a Debian 12 / Raspberry Pi OS machine, idempotently:
#   1. Debian packages (only the missing ones; needs root or sudo),
#   2. a virtual environment in .venv,
#   3. the project itself, editable, with all extras.
# A second run checks and returns in seconds. Used by `make demo` and `make test`.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

# Runtime services and tools, fonts, Kivy's GL and X libraries, and what the
# printing (CUPS, cups-pdf, poppler), web (chromium) and image (shellcheck, bats;
# nft, sshd and visudo check the image's firewall, sshd drop-in and sudoers file)
# work needs. Keep this list in one place: README and CI rely on it.
APT_PACKAGES=(
  mosquitto mosquitto-clients
  pcscd vsmartcard-vpcd libpcsclite-dev opensc
  fonts-morisawa-bizud-gothic fonts-noto-cjk fonts-ipaexfont-gothic fonts-dejavu-core fonts-lohit-deva
  libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libgles2 libmtdev1
  libx11-6 libxext6 libxcursor1 libxi6 libxrandr2 libxss1 libxxf86vm1 libxrender1
  postgresql
  cups cups-bsd cups-client printer-driver-cups-pdf poppler-utils
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 cups-ipp-utils
  chromium
  shellcheck bats socat udev nftables openssh-server sudo
  python3-venv python3-dev gcc make
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "bootstrap: these Debian packages are missing: ${missing[*]}" >&2
    echo "bootstrap: run this as an administrator, then run make again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # openssh-server is here only for `sshd -t` on the image's drop-in: do not leave an SSH server running.
  if [[ " ${missing[*]} " == *" openssh-server "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
    echo "bootstrap: openssh-server was installed for the image tests; its service is disabled"
  fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "bootstrap: $PYTHON is older than 3.11; set PYTHON=/path/to/python3.11 and run again" >&2
    exit 1
  }
  echo "bootstrap: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.madoguchi-installed"
want=$(sha256sum < pyproject.toml | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "bootstrap: installing the project and its extras into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[all]"
  echo "$want" > "$stamp"
fi
