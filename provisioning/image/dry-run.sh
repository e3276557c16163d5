#!/bin/bash
# Dry run of stage-kiosk on an x86 host, without debootstrap: a skeleton root whose /usr is the host's
# (read through an overlay, so nothing on the host changes), then each sub-stage in pi-gen order —
# NN-packages* listed (not installed), NN-run.sh on the host with ROOTFS_DIR, NN-run-chroot.sh fed
# to bash inside the chroot. Like pi-gen's stage1 it first creates the maintenance account
# FIRST_USER_NAME (default kadmin) with a password. Needs root (mount namespace, overlayfs, chroot).
#   KIOSK_WHEELHOUSE=... KIOSK_ROOT_CA=... KIOSK_APP_VERSION=... KIOSK_APP_REQUIREMENT=... dry-run.sh ROOTFS_DIR
set -euo pipefail

ROOTFS_DIR="$(realpath -m "${1:?usage: dry-run.sh ROOTFS_DIR}")"
export ROOTFS_DIR
stage="$(cd "$(dirname "${BASH_SOURCE[0]}")/stage-kiosk" && pwd)"

# Skeleton: merged-/usr layout, account databases copied from the host, pi-gen's boot files.
install -d "${ROOTFS_DIR}"/{usr,etc,boot/firmware,dev,proc,run,tmp,var/lib,opt,data}
for link in bin lib lib64 sbin; do
	[[ -e "${ROOTFS_DIR}/${link}" ]] || ln -s "usr/${link}" "${ROOTFS_DIR}/${link}"
done
for file in passwd group shadow gshadow login.defs nsswitch.conf; do
	[[ -e "/etc/${file}" ]] && cp -p "/etc/${file}" "${ROOTFS_DIR}/etc/${file}"
done
install -d -m 0755 "${ROOTFS_DIR}/etc/systemd/system"
[[ -f "${ROOTFS_DIR}/boot/firmware/cmdline.txt" ]] ||
	echo "console=serial0,115200 console=tty1 root=PARTUUID=00000000-02 rootfstype=ext4 fsck.repair=yes rootwait resize quiet" \
		>"${ROOTFS_DIR}/boot/firmware/cmdline.txt"

run_chroot() {
	local script="$1" scratch
	scratch="$(mktemp -d)"
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare --mount --propagation private bash -ec '
		root="$1"; scratch="$2"; script="$3"
		mkdir -p "${scratch}/upper" "${scratch}/work"
		mount -t overlay overlay -o "lowerdir=${root}/usr:/usr,upperdir=${scratch}/upper,workdir=${scratch}/work" "${root}/usr"
		mount --bind /dev "${root}/dev"
		mount -t proc proc "${root}/proc"
		chroot "${root}" /bin/bash -e <"${script}"
	' _ "${ROOTFS_DIR}" "${scratch}" "${script}"
	rm -rf "${scratch}"
}

# pi-gen's stage1 creates the maintenance account with the config's FIRST_USER_PASS (01-system locks it).
FIRST_USER_NAME="${FIRST_USER_NAME:-kadmin}"
export FIRST_USER_NAME
if ! grep -q "^${FIRST_USER_NAME}:" "${ROOTFS_DIR}/etc/passwd"; then
	stage1="$(mktemp)"
	cat >"${stage1}" <<-EOF
		useradd --create-home --shell /bin/bash ${FIRST_USER_NAME}
		usermod --password '$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | openssl passwd -6 -stdin)' ${FIRST_USER_NAME}
	EOF
	run_chroot "${stage1}"
	rm -f "${stage1}"
fi

for substage in "${stage}"/[0-9][0-9]-*/; do
	for step in "${substage}"[0-9][0-9]-*; do
		case "${step##*/}" in
		[0-9][0-9]-packages | [0-9][0-9]-packages-nr)
			echo "dry-run: would install: $(tr '\n' ' ' <"${step}")"
			cat "${step}" >>"${ROOTFS_DIR}/.dry-run-packages"
			;;
		[0-9][0-9]-run.sh)
			echo "dry-run: ${step#"${stage}/"} (host)"
			(cd "${substage}" && "${step}")
			;;
		[0-9][0-9]-run-chroot.sh)
			echo "dry-run: ${step#"${stage}/"} (chroot)"
			run_chroot "${step}"
			;;
		esac
	done
done
echo "dry-run: done in ${ROOTFS_DIR}"
