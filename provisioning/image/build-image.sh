#!/bin/bash
# Build the Madoguchi kiosk image with pi-gen (arm64 branch), natively or in pi-gen's docker container.
#   build-image.sh [--docker] [--stage-only] [-c EXTRA_CONFIG]... PI_GEN_DIR
# 1. Sources provisioning/image/config, then each EXTRA_CONFIG (KIOSK_* from the environment win as
#    usual), and checks it and every input with check-config.sh: nothing is copied while one is missing.
# 2. Stages everything the build reads into PI_GEN_DIR/madoguchi/ (replaced on every run):
#      stage-kiosk/  scripts/  (01-system runs ../../scripts/kiosk-udev-rules.sh, kiosk-ssh-access.sh)
#      inputs/wheelhouse/*.whl  inputs/root.pem  inputs/release-keys/*.pub  inputs/fleet-root/*.pub
#      inputs/ssh/authorized_keys  (the maintenance account's PUBKEY_SSH_FIRST_USER)
#      config        the sourced settings, flattened; paths hang off pi-gen's BASE_DIR, so they hold both
#                    natively and in build-docker.sh's container, which has only the pi-gen tree (as
#                    /pi-gen) and this one file (as /config)
#    and touches PI_GEN_DIR/stage2/SKIP_IMAGES (pi-gen would also export a Lite image).
# 3. Checks the generated config (--docker: as the container sees it).
# 4. Runs `./build.sh -c PI_GEN_DIR/madoguchi/config` (as root) or `./build-docker.sh -c ...` in PI_GEN_DIR;
#    CLEAN, CONTINUE, PRESERVE_CONTAINER ... pass through the environment. The image lands in
#    PI_GEN_DIR/deploy/ (image_<date>-madoguchi-kiosk.img.xz, .info, .bmap with bmaptool, SBOM with syft).
#    --stage-only stops after step 3 and prints that command.
# 5. Writes PI_GEN_DIR/deploy/SHA256SUMS over the files this build put there and, when
#    KIOSK_IMAGE_SIGNING_KEY names an Ed25519 private key (kiosk-central release keygen), signs it
#    (SHA256SUMS.sig). Unsigned is allowed, with a warning before and after the build. Both settings are
#    read from the environment only, never from a config file (with sudo: sudo KIOSK_IMAGE_SIGNING_KEY=...).
#    This needs a Python with the project: MADOGUCHI_PYTHON, default <repository>/.venv/bin/python
#    (scripts/bootstrap.sh or `make bootstrap` makes it); checked, like the key, before pi-gen starts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
checker="${here}/check-config.sh"
repo="$(cd "${here}/../.." && pwd)"
python="${MADOGUCHI_PYTHON:-${repo}/.venv/bin/python}"
signing_key="${KIOSK_IMAGE_SIGNING_KEY:-}"

die() {
	echo "build-image: $*" >&2
	exit 1
}
usage() {
	echo "usage: build-image.sh [--docker] [--stage-only] [-c EXTRA_CONFIG]... PI_GEN_DIR" >&2
	exit 2
}

docker=0 stage_only=0 pigen="" configs=("${here}/config")
while (($#)); do
	case "$1" in
	--docker) docker=1 && shift ;;
	--stage-only) stage_only=1 && shift ;;
	-c)
		(($# >= 2)) || usage
		[[ -f "$2" ]] || die "extra config $2 does not exist"
		configs+=("$(realpath "$2")")
		shift 2
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		[[ -z "${pigen}" ]] || usage
		pigen="$1" && shift
		;;
	esac
done
[[ -n "${pigen}" ]] || usage

# --- the pi-gen tree -------------------------------------------------------------------------------
[[ -d "${pigen}" ]] || die "${pigen} does not exist: git clone --branch arm64 https://github.com/RPi-Distro/pi-gen"
pigen="$(cd "${pigen}" && pwd)"
for need in build.sh build-docker.sh stage0 stage1 stage2 export-image; do
	[[ -e "${pigen}/${need}" ]] || die "${pigen} is not a pi-gen tree (no ${need})"
done
grep -q '^export ARCH=arm64' "${pigen}/build.sh" ||
	die "${pigen} is not pi-gen's arm64 branch (build.sh does not set ARCH=arm64): git -C ${pigen} checkout arm64"
staged="${pigen}/madoguchi"
if [[ -e "${staged}" && ! -f "${staged}/.build-image" ]]; then
	die "${staged} exists and was not made by build-image.sh; move it away"
fi
touch "${pigen}/stage2/SKIP_IMAGES"

# --- 1. the config as given, and its inputs --------------------------------------------------------
"${checker}" --base-dir "${pigen}" "${configs[@]}" >/dev/null ||
	die "fix the problems above (provisioning/image/config, KIOSK_* settings), then run again"

# --- 2. stage ------------------------------------------------------------------------------------
rm -rf "${staged}"
install -d "${staged}/inputs/wheelhouse" "${staged}/inputs/release-keys" "${staged}/inputs/fleet-root" \
	"${staged}/inputs/ssh"
printf 'staged by provisioning/image/build-image.sh; replaced on every run\n' >"${staged}/.build-image"
cp -a "${here}/stage-kiosk" "${here}/scripts" "${staged}/"

# Source the configs in a subshell (as build.sh would) and write them out flattened.
(
	set +eu
	for config in "${configs[@]}"; do
		# shellcheck source=/dev/null
		source "${config}"
	done
	set -eu
	# The wheelhouse's files (wheels, SHA256SUMS, constraints.txt of make wheelhouse), not its subfolders.
	find "${KIOSK_WHEELHOUSE}/" -maxdepth 1 -type f -exec cp -t "${staged}/inputs/wheelhouse/" -- {} +
	cp -- "${KIOSK_ROOT_CA}" "${staged}/inputs/root.pem"
	cp -- "${KIOSK_RELEASE_KEYS}"/*.pub "${staged}/inputs/release-keys/"
	if [[ -f "${KIOSK_FLEET_ROOT_KEYS:-}" ]]; then
		cp -- "${KIOSK_FLEET_ROOT_KEYS}" "${staged}/inputs/fleet-root/root.pub"
	elif compgen -G "${KIOSK_FLEET_ROOT_KEYS:-/nonexistent}/*.pub" >/dev/null; then
		cp -- "${KIOSK_FLEET_ROOT_KEYS}"/*.pub "${staged}/inputs/fleet-root/"
	fi
	printf '%s\n' "${PUBKEY_SSH_FIRST_USER:-}" >"${staged}/inputs/ssh/authorized_keys"

	# STAGE_LIST: pi-gen's stages by name, the kiosk stage from the staged copy.
	stages=""
	for entry in ${STAGE_LIST:-}; do
		dir="$(cd "${pigen}" && realpath -m "${entry}")"
		if [[ "${dir}" == "${here}/stage-kiosk" ]]; then
			# shellcheck disable=SC2016  # expanded when pi-gen sources the generated config
			stages+=' ${MADOGUCHI_STAGED}/stage-kiosk'
		elif [[ "${dir}" == "${pigen}/"* ]]; then
			stages+=" \${MADOGUCHI_PI_GEN}/${dir#"${pigen}/"}"
		else
			echo "build-image: STAGE_LIST entry ${entry} is outside ${pigen}; only stage-kiosk is staged" >&2
			exit 1
		fi
	done

	cat <<-HEAD
		# Generated by provisioning/image/build-image.sh from provisioning/image/config ($(git -C "${here}" describe --always --dirty 2>/dev/null || echo "no git")).
		# Do not edit: change provisioning/image/config or the KIOSK_* settings and run build-image.sh again.
		# Paths hang off pi-gen's BASE_DIR (build.sh exports it before sourcing this; /pi-gen in the container).
		# build-docker.sh also sources this file on the host, without BASE_DIR: then it is ../ of this file.
		# shellcheck shell=bash disable=SC2034
		MADOGUCHI_PI_GEN="\${BASE_DIR:-\$(cd "\$(dirname "\${BASH_SOURCE[0]}")/.." && pwd)}"
		MADOGUCHI_STAGED="\${MADOGUCHI_PI_GEN}/madoguchi"
		STAGE_LIST="${stages# }"
		# A throwaway, new on every sourcing: stage-kiosk/01-system/01-run-chroot.sh locks the password.
		FIRST_USER_PASS="\$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')"
		export KIOSK_WHEELHOUSE="\${MADOGUCHI_STAGED}/inputs/wheelhouse"
		export KIOSK_ROOT_CA="\${MADOGUCHI_STAGED}/inputs/root.pem"
		export KIOSK_RELEASE_KEYS="\${MADOGUCHI_STAGED}/inputs/release-keys"
		export KIOSK_FLEET_ROOT_KEYS="\${MADOGUCHI_STAGED}/inputs/fleet-root"
		export KIOSK_SSH_PUBKEY_FILE="\${MADOGUCHI_STAGED}/inputs/ssh/authorized_keys"
		PUBKEY_SSH_FIRST_USER=""
		if [[ -r "\${KIOSK_SSH_PUBKEY_FILE}" ]]; then
			PUBKEY_SSH_FIRST_USER="\$(<"\${KIOSK_SSH_PUBKEY_FILE}")"
		fi
	HEAD
	# pi-gen's settings (README.md of the arm64 branch), as the configs left them.
	for name in IMG_NAME RELEASE DEPLOY_COMPRESSION COMPRESSION_LEVEL TARGET_HOSTNAME LOCALE_DEFAULT \
		TIMEZONE_DEFAULT KEYBOARD_KEYMAP KEYBOARD_LAYOUT WPA_COUNTRY FIRST_USER_NAME \
		DISABLE_FIRST_BOOT_USER_RENAME PASSWORDLESS_SUDO ENABLE_SSH PUBKEY_ONLY_SSH ENABLE_CLOUD_INIT \
		APT_PROXY TEMP_REPO IMG_DATE USE_QEMU SETFCAP; do
		if [[ -v "${name}" ]]; then
			printf '%s=%q\n' "${name}" "${!name}"
		fi
	done
	# The kiosk stage's settings the configs define (their values may come from the environment); the
	# path ones are staged above.
	for name in $(grep -ohE '\bKIOSK_[A-Z0-9_]+=' "${configs[@]}" | tr -d = | sort -u); do
		case "${name}" in
		KIOSK_WHEELHOUSE | KIOSK_ROOT_CA | KIOSK_RELEASE_KEYS | KIOSK_FLEET_ROOT_KEYS | KIOSK_SSH_PUBKEY_FILE) ;;
		*) printf 'export %s=%q\n' "${name}" "${!name:-}" ;;
		esac
	done
) >"${staged}/config.new"
mv "${staged}/config.new" "${staged}/config"

# --- 3. check what pi-gen will get ------------------------------------------------------------------
if ((docker)); then
	"${checker}" --docker --base-dir "${pigen}" "${staged}/config"
	command=(./build-docker.sh -c "${staged}/config")
else
	"${checker}" --base-dir "${pigen}" "${staged}/config"
	command=(./build.sh -c "${staged}/config")
fi

# --- 4. build ------------------------------------------------------------------------------------
if ((stage_only)); then
	echo "build-image: staged in ${staged}; build with: cd ${pigen} && ${command[*]}"
	exit 0
fi
if ((!docker)) && [[ "$(id -u)" != 0 ]]; then
	die "pi-gen's build.sh runs as root: sudo $0 ... (or use --docker)"
fi
# What step 5 needs, checked now rather than after an hour of pi-gen.
sums() {
	(cd "${repo}" && "${python}" -m provisioning.updates.sums "$@")
}
if [[ "$(cd "${repo}" && "${python}" -c 'import provisioning.updates.sums; print("sums")' 2>/dev/null)" != sums ]]; then
	die "no Python with the project at ${python} (it sums and signs the image): run scripts/bootstrap.sh" \
		"in ${repo}, or set MADOGUCHI_PYTHON to a python that can import provisioning.updates.sums"
fi
if [[ -n "${signing_key}" ]]; then
	[[ -f "${signing_key}" && -r "${signing_key}" ]] ||
		die "KIOSK_IMAGE_SIGNING_KEY=${signing_key} is not a readable file (kiosk-central release keygen --out FILE)"
else
	echo "build-image: warning: KIOSK_IMAGE_SIGNING_KEY is not set: deploy/SHA256SUMS will not be signed" >&2
fi
# shellcheck disable=SC2016  # expanded by the inner shell
img_name="$(env BASE_DIR="${pigen}" bash -c 'source "$1" >/dev/null; printf %s "${IMG_NAME}"' _ "${staged}/config")"
deploy="${pigen}/deploy"
touch "${staged}/.build-started"
(cd "${pigen}" && "${command[@]}")

# --- 5. checksums and signature ----------------------------------------------------------------------
# The files of this build: pi-gen names them after IMG_NAME and replaces older ones of the same day.
images=()
while IFS= read -r -d '' file; do
	images+=("${file}")
done < <(find "${deploy}" -maxdepth 1 -type f -name "*${img_name}*" -newer "${staged}/.build-started" \
	! -name 'SHA256SUMS*' -print0 2>/dev/null | sort -z)
if [[ " ${images[*]##*/} " != *"${img_name}"*".img"* ]]; then
	die "pi-gen finished but ${deploy} has no new image named *${img_name}*.img*: see pi-gen's build log"
fi
rm -f "${deploy}/SHA256SUMS" "${deploy}/SHA256SUMS.sig"
sums write "${images[@]}" >/dev/null
[[ -s "${deploy}/SHA256SUMS" ]] || die "${python} -m provisioning.updates.sums wrote no ${deploy}/SHA256SUMS"
echo "build-image: wrote ${deploy}/SHA256SUMS (${#images[@]} files: ${images[*]##*/})"
if [[ -n "${signing_key}" ]]; then
	sums sign "${deploy}/SHA256SUMS" --key "${signing_key}" >/dev/null
	echo "build-image: signed: ${deploy}/SHA256SUMS.sig"
else
	echo "build-image: warning: SHA256SUMS is NOT signed (KIOSK_IMAGE_SIGNING_KEY unset); sign it before it" \
		"leaves this machine: python -m provisioning.updates.sums sign ${deploy}/SHA256SUMS --key KEY" >&2
fi
