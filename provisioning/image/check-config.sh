#!/bin/bash
# Check a pi-gen config before a build: pi-gen's own config checks, repeated here so that they fail in
# seconds instead of after a container build, plus the kiosk image's own rules.
#   check-config.sh [--base-dir PI_GEN_DIR] [--docker] [--no-inputs] CONFIG [CONFIG...]
# The configs are sourced the way pi-gen's build.sh sources them: BASE_DIR (the pi-gen tree) exported
# first, then PI_GEN_DIR/config if present, then each CONFIG in order (build.sh -c), all in the pi-gen
# tree as working directory (build-docker.sh runs `cd /pi-gen; ./build.sh`, build-image.sh cds there too),
# then build.sh's defaults are applied.
#   --docker     check as build-docker.sh would run it: exactly one CONFIG, sourced under `set -eu` on the
#                host, mounted alone as /config in the container (a copy in an empty folder stands in for
#                it), and every path the build reads inside the pi-gen tree, which is all the container has.
#   --no-inputs  skip the checks of the KIOSK_* inputs (wheelhouse, keys).
# Prints one "check-config: ERROR: ..." line per broken rule; exit 0 = pass, 1 = broken rules, 2 = usage.
#
# Facts come from RPi-Distro/pi-gen, branch arm64 (commit ca8aeed0, 2026-06-16; master differs only in
# ARCH); the rules are our own code:
#   build.sh          no space in BASE_DIR; FIRST_USER_NAME matches ^[a-z][-a-z0-9_]*$;
#                     DISABLE_FIRST_BOOT_USER_RENAME=1 needs FIRST_USER_PASS; APT_PROXY reachable (curl);
#                     WPA_PASSWORD 8..63 characters; PUBKEY_ONLY_SSH=1 needs PUBKEY_SSH_FIRST_USER;
#                     EXPORT_CONFIG_DIR (default BASE_DIR/export-image) is a directory; DEPLOY_ZIP=0 means
#                     DEPLOY_COMPRESSION=none; defaults (RELEASE=trixie, DEPLOY_COMPRESSION=zip, ...).
#   build.sh run_stage/run_sub_stage
#                     each STAGE_LIST entry is realpath'd from the working directory and pushd'ed under
#                     `bash -e` (a missing one stops the build); a stage's work folder is WORK_DIR/<basename>;
#                     prerun.sh and NN-run.sh run only when executable (else silently / "Skip ..." skipped);
#                     a stage with EXPORT_IMAGE exports an image unless it also has SKIP_IMAGES.
#   stage0/prerun.sh  RELEASE other than trixie only warns on this branch (we refuse it: cp313 wheels).
#   export-image/05-finalise/01-run.sh
#                     DEPLOY_COMPRESSION zip|gz|xz|none; anything else silently ships an uncompressed image
#                     (we refuse it); COMPRESSION_LEVEL 0-9 (README.md).
#   stage1/01-sys-tweaks/00-run.sh
#                     FIRST_USER_PASS goes through an unquoted heredoc into chpasswd ($ ` \ would expand).
#   stage1/02-net-tweaks/00-run.sh
#                     TARGET_HOSTNAME is written to /etc/hostname unchecked (we require an RFC 1123 label).
#   build-docker.sh, Dockerfile, .dockerignore
#                     sources the -c file under `set -eu` on the host and needs IMG_NAME from it; mounts only
#                     that file as /config; the container has the pi-gen tree (COPY . /pi-gen/ without work/,
#                     deploy/, output/, apt-cacher-ng/) and runs `cd /pi-gen; ./build.sh -c /config`.
set -uo pipefail
_cc_access="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scripts/kiosk-ssh-access.sh"

_cc_usage() {
	echo "usage: check-config.sh [--base-dir PI_GEN_DIR] [--docker] [--no-inputs] CONFIG [CONFIG...]" >&2
	exit 2
}

_cc_base="" _cc_docker=0 _cc_inputs=1 _cc_configs=()
while (($#)); do
	case "$1" in
	--base-dir)
		(($# >= 2)) || _cc_usage
		_cc_base="$2"
		shift 2
		;;
	--docker) _cc_docker=1 && shift ;;
	--no-inputs) _cc_inputs=0 && shift ;;
	-h | --help) _cc_usage ;;
	-*) _cc_usage ;;
	*) _cc_configs+=("$(realpath -m "$1")") && shift ;;
	esac
done
((${#_cc_configs[@]})) || _cc_usage
_cc_base="$(realpath -m "${_cc_base:-.}")"
[[ -d "${_cc_base}" ]] || {
	echo "check-config: pi-gen tree ${_cc_base} does not exist" >&2
	exit 2
}
for _cc_config in "${_cc_configs[@]}"; do
	[[ -f "${_cc_config}" ]] || {
		echo "check-config: config ${_cc_config} does not exist" >&2
		exit 2
	}
done

_cc_errors=0
_cc_fail() {
	echo "check-config: ERROR: $*" >&2
	_cc_errors=$((_cc_errors + 1))
}

if ((_cc_docker)); then
	((${#_cc_configs[@]} == 1)) || {
		echo "check-config: --docker takes exactly one CONFIG (build-docker.sh mounts one file)" >&2
		exit 2
	}
	# build-docker.sh sources the -c file on the host under `set -eu`, without BASE_DIR, for IMG_NAME.
	# shellcheck disable=SC2016  # expanded by the inner shell
	if ! _cc_img="$(env -u BASE_DIR bash -c 'set -eu; source "$1" >/dev/null; printf %s "${IMG_NAME:-}"' _ \
		"${_cc_configs[0]}" 2>&1)"; then
		_cc_fail "build-docker.sh sources the config under 'set -eu' and it fails there: ${_cc_img##*$'\n'}"
	elif [[ -z "${_cc_img}" ]]; then
		_cc_fail "IMG_NAME not set in 'config' (build-docker.sh needs it in the -c file)"
	fi
	# In the container the config is /config, alone: a copy in an empty folder stands in for it.
	_cc_mount="$(mktemp -d)"
	trap 'rm -rf "${_cc_mount}"' EXIT
	cp "${_cc_configs[0]}" "${_cc_mount}/config"
	_cc_configs=("${_cc_mount}/config")
fi

# --- source as build.sh does ------------------------------------------------------------------------
cd "${_cc_base}" || exit 2
BASE_DIR="${_cc_base}"
export BASE_DIR
if [[ -f config ]]; then
	# shellcheck source=/dev/null
	source config
fi
for _cc_config in "${_cc_configs[@]}"; do
	# shellcheck source=/dev/null
	source "${_cc_config}"
done
cd "${_cc_base}" || exit 2
set -u

# build.sh's defaults, in its order.
RELEASE="${RELEASE:-trixie}"
IMG_NAME="${IMG_NAME:-raspios-${RELEASE}-arm64}"
if [[ -z "${DEPLOY_COMPRESSION:-}" && "${DEPLOY_ZIP:-1}" == "0" ]]; then
	DEPLOY_COMPRESSION=none
fi
DEPLOY_COMPRESSION="${DEPLOY_COMPRESSION:-zip}"
COMPRESSION_LEVEL="${COMPRESSION_LEVEL:-6}"
TARGET_HOSTNAME="${TARGET_HOSTNAME:-raspberrypi}"
FIRST_USER_NAME="${FIRST_USER_NAME:-pi}"
FIRST_USER_PASS="${FIRST_USER_PASS:-}"
DISABLE_FIRST_BOOT_USER_RENAME="${DISABLE_FIRST_BOOT_USER_RENAME:-0}"
ENABLE_SSH="${ENABLE_SSH:-0}"
PUBKEY_ONLY_SSH="${PUBKEY_ONLY_SSH:-0}"
PUBKEY_SSH_FIRST_USER="${PUBKEY_SSH_FIRST_USER:-}"
APT_PROXY="${APT_PROXY:-}"
WPA_PASSWORD="${WPA_PASSWORD:-}"
STAGE_LIST="${STAGE_LIST:-${BASE_DIR}/stage*}"
EXPORT_CONFIG_DIR="${EXPORT_CONFIG_DIR:-${BASE_DIR}/export-image}"

# --- pi-gen build.sh -------------------------------------------------------------------------------
if [[ "${BASE_DIR}" == *" "* ]]; then
	_cc_fail "There is a space in the base path of pi-gen (${BASE_DIR}): debootstrap cannot use it"
fi
if [[ ! "${FIRST_USER_NAME}" =~ ^[a-z][-a-z0-9_]*$ ]]; then
	_cc_fail "Invalid FIRST_USER_NAME: ${FIRST_USER_NAME}"
fi
if [[ "${DISABLE_FIRST_BOOT_USER_RENAME}" == "1" && -z "${FIRST_USER_PASS}" ]]; then
	_cc_fail "To disable user rename on first boot, FIRST_USER_PASS needs to be set"
fi
if [[ -n "${APT_PROXY}" ]] && ! curl --silent --max-time 10 "${APT_PROXY}" >/dev/null; then
	_cc_fail "Could not reach APT_PROXY server: ${APT_PROXY}"
fi
# build.sh's test reads: (set and shorter than 8) or longer than 63.
if [[ -n "${WPA_PASSWORD}" && ${#WPA_PASSWORD} -lt 8 || ${#WPA_PASSWORD} -gt 63 ]]; then
	_cc_fail "WPA_PASSWORD must be between 8 and 63 characters"
fi
if [[ "${PUBKEY_ONLY_SSH}" == "1" && -z "${PUBKEY_SSH_FIRST_USER}" ]]; then
	_cc_fail "Must set 'PUBKEY_SSH_FIRST_USER' to a valid SSH public key if using PUBKEY_ONLY_SSH"
fi
_cc_export_dir="$(realpath -m "${EXPORT_CONFIG_DIR}")"
if [[ ! -d "${_cc_export_dir}" ]]; then
	_cc_fail "EXPORT_CONFIG_DIR invalid: ${_cc_export_dir} does not exist"
fi

# --- pi-gen run_stage / run_sub_stage: the stage folders ----------------------------------------------
_cc_stages=() _cc_names=" " _cc_exporting=() _cc_last=""
for _cc_entry in ${STAGE_LIST}; do
	_cc_dir="$(realpath -m "${_cc_entry}")"
	_cc_last="${_cc_dir}"
	if [[ ! -d "${_cc_dir}" ]]; then
		_cc_fail "STAGE_LIST entry ${_cc_entry}: no such stage folder (${_cc_dir}; pi-gen resolves it from ${BASE_DIR})"
		continue
	fi
	_cc_stages+=("${_cc_dir}")
	_cc_name="${_cc_dir##*/}"
	if [[ "${_cc_names}" == *" ${_cc_name} "* ]]; then
		_cc_fail "two STAGE_LIST entries are named ${_cc_name}: pi-gen would build both in WORK_DIR/${_cc_name}"
	fi
	_cc_names+="${_cc_name} "
	if [[ -f "${_cc_dir}/EXPORT_IMAGE" && ! -f "${_cc_dir}/SKIP_IMAGES" ]]; then
		_cc_exporting+=("${_cc_dir}")
	fi
	[[ -f "${_cc_dir}/SKIP" ]] && continue
	for _cc_script in "${_cc_dir}/prerun.sh" "${_cc_dir}"/*/[0-9][0-9]-run.sh; do
		if [[ -f "${_cc_script}" && ! -x "${_cc_script}" ]]; then
			_cc_fail "${_cc_script} is not executable: pi-gen would skip it (chmod +x)"
		fi
	done
done

# --- our rules -------------------------------------------------------------------------------------
# One image, the kiosk one: every other stage with EXPORT_IMAGE needs SKIP_IMAGES.
if [[ -d "${_cc_last}" ]]; then
	for _cc_dir in "${_cc_exporting[@]}"; do
		if [[ "${_cc_dir}" != "${_cc_last}" ]]; then
			_cc_fail "${_cc_dir##*/} exports an image too: touch ${_cc_dir}/SKIP_IMAGES (build-image.sh does)"
		fi
	done
	if [[ ! -f "${_cc_last}/EXPORT_IMAGE" || -f "${_cc_last}/SKIP_IMAGES" ]]; then
		_cc_fail "the last stage ${_cc_last} exports no image (needs EXPORT_IMAGE and no SKIP_IMAGES)"
	fi
fi
if [[ "${RELEASE}" != "trixie" ]]; then
	_cc_fail "RELEASE=${RELEASE}: the arm64 branch builds trixie (stage0/prerun.sh) and the kiosk wheels are cp313"
fi
case "${DEPLOY_COMPRESSION}" in
zip | gz | xz | none) ;;
*) _cc_fail "DEPLOY_COMPRESSION=${DEPLOY_COMPRESSION}: pi-gen knows zip, gz, xz, none (anything else ships a raw .img)" ;;
esac
if [[ ! "${COMPRESSION_LEVEL}" =~ ^[0-9]$ ]]; then
	_cc_fail "COMPRESSION_LEVEL=${COMPRESSION_LEVEL}: must be 0 to 9"
fi
if [[ ! "${TARGET_HOSTNAME}" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
	_cc_fail "TARGET_HOSTNAME=${TARGET_HOSTNAME}: not a host name (a-z, 0-9, inner '-', at most 63)"
fi
if [[ "${FIRST_USER_PASS}" == *[\$\`\\]* ]]; then
	_cc_fail "FIRST_USER_PASS contains \$, \` or \\: stage1 passes it through an unquoted heredoc to chpasswd"
fi
if [[ "${PUBKEY_ONLY_SSH}" == "1" && "${ENABLE_SSH}" != "1" ]]; then
	_cc_fail "PUBKEY_ONLY_SSH=1 but ENABLE_SSH=${ENABLE_SSH}: stage2 disables ssh, nobody can log in"
fi
if [[ -n "${PUBKEY_SSH_FIRST_USER}" ]]; then
	while IFS= read -r _cc_line; do
		[[ -z "${_cc_line// /}" || "${_cc_line}" == \#* ]] && continue
		if [[ ! "${_cc_line}" =~ ^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\ [A-Za-z0-9+/]+=*(\ .*)?$ ]]; then
			_cc_fail "PUBKEY_SSH_FIRST_USER has a line that is not an OpenSSH public key: ${_cc_line:0:40}"
		fi
	done <<<"${PUBKEY_SSH_FIRST_USER}"
fi

# SSH source networks: stage-kiosk/01-system writes the firewall and sshd's AllowUsers from them.
if ! _cc_msg="$(KIOSK_SSH_FROM="${KIOSK_SSH_FROM:-}" "${_cc_access}" check 2>&1)"; then
	_cc_fail "${_cc_msg#kiosk-ssh-access: }"
elif [[ "${ENABLE_SSH}" == "1" && -z "${KIOSK_SSH_FROM// /}" ]]; then
	echo "check-config: warning: KIOSK_SSH_FROM is empty: the kiosks' firewall lets SSH in from any address;" \
		"set it to the maintenance networks (e.g. KIOSK_SSH_FROM=\"10.20.0.0/16 fd00:20::/64\")" >&2
fi

# The kiosk stage's inputs (stage-kiosk/02-app reads them; build-image.sh copies them into the tree).
if ((_cc_inputs)); then
	if [[ -z "${KIOSK_APP_VERSION:-}" || -z "${KIOSK_APP_REQUIREMENT:-}" ]]; then
		_cc_fail "KIOSK_APP_VERSION and KIOSK_APP_REQUIREMENT must be set (provisioning/image/config sets both)"
	fi
	if ! compgen -G "${KIOSK_WHEELHOUSE:-/nonexistent}/*.whl" >/dev/null; then
		_cc_fail "no wheels in ${KIOSK_WHEELHOUSE:-<KIOSK_WHEELHOUSE unset>}: run \`make wheelhouse\`" \
			"(provisioning/image/wheelhouse.sh) or set KIOSK_WHEELHOUSE to a folder of aarch64 cp313 wheels"
	fi
	if [[ ! -f "${KIOSK_ROOT_CA:-/nonexistent}" ]]; then
		_cc_fail "fleet root ${KIOSK_ROOT_CA:-<KIOSK_ROOT_CA unset>} is missing: copy DIR/root/root.pem of" \
			"\`kiosk-central ca init --dir DIR\` there or set KIOSK_ROOT_CA"
	fi
	if ! compgen -G "${KIOSK_RELEASE_KEYS:-/nonexistent}/*.pub" >/dev/null; then
		_cc_fail "no release public keys (*.pub) in ${KIOSK_RELEASE_KEYS:-<KIOSK_RELEASE_KEYS unset>}: copy the" \
			"centre's <data_dir>/signing/release-keys/*.pub (\`kiosk-central release keygen\`) or set KIOSK_RELEASE_KEYS"
	fi
	# Optional, as in stage-kiosk/02-app: without it a kiosk takes the root handed over at enrolment.
	if ! compgen -G "${KIOSK_FLEET_ROOT_KEYS:-/nonexistent}/*.pub" >/dev/null &&
		[[ ! -f "${KIOSK_FLEET_ROOT_KEYS:-/nonexistent}" ]]; then
		echo "check-config: warning: no fleet root key (*.pub) in ${KIOSK_FLEET_ROOT_KEYS:-<unset>}: kiosks will" \
			"trust the root their central hands over at enrolment; copy DIR/root.pub of" \
			"\`kiosk-central catalog keys --dir DIR\` there or set KIOSK_FLEET_ROOT_KEYS" >&2
	fi
	# provisioning/image/config reads PUBKEY_SSH_FIRST_USER from KIOSK_SSH_PUBKEY_FILE.
	if [[ "${PUBKEY_ONLY_SSH}" == "1" && -z "${PUBKEY_SSH_FIRST_USER}" && -n "${KIOSK_SSH_PUBKEY_FILE:-}" &&
		! -s "${KIOSK_SSH_PUBKEY_FILE}" ]]; then
		_cc_fail "no SSH public key for ${FIRST_USER_NAME} at ${KIOSK_SSH_PUBKEY_FILE}:" \
			"ssh-keygen -t ed25519 -f dist/ssh/${FIRST_USER_NAME} (keep the private key off the build host)" \
			"or set KIOSK_SSH_PUBKEY_FILE"
	fi
fi

# build-docker.sh: the container has the pi-gen tree and /config, nothing else.
if ((_cc_docker)); then
	_cc_paths=("${_cc_stages[@]}" "${_cc_export_dir}")
	for _cc_var in KIOSK_WHEELHOUSE KIOSK_ROOT_CA KIOSK_RELEASE_KEYS KIOSK_FLEET_ROOT_KEYS KIOSK_SSH_PUBKEY_FILE; do
		[[ -n "${!_cc_var:-}" ]] && _cc_paths+=("$(realpath -m "${!_cc_var}")")
	done
	for _cc_path in "${_cc_paths[@]}"; do
		case "${_cc_path}/" in
		"${BASE_DIR}"/work/* | "${BASE_DIR}"/deploy/* | "${BASE_DIR}"/output/* | "${BASE_DIR}"/apt-cacher-ng/*)
			_cc_fail "${_cc_path} is in a folder .dockerignore keeps out of the container"
			;;
		"${BASE_DIR}"/*) ;;
		*) _cc_fail "${_cc_path} is outside the pi-gen tree: build-docker.sh's container has only that tree and /config" ;;
		esac
	done
fi

if ((_cc_errors)); then
	echo "check-config: ${_cc_errors} problem(s); pi-gen would stop or build the wrong image" >&2
	exit 1
fi
echo "check-config: OK (${STAGE_LIST// /, } -> ${IMG_NAME}, ${DEPLOY_COMPRESSION})"
