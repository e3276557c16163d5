#!/bin/bash -e
# In the image (chroot): lock the maintenance account's password. pi-gen requires FIRST_USER_PASS when
# DISABLE_FIRST_BOOT_USER_RENAME=1, so the config gives it a random throwaway that stage1 sets with
# chpasswd; locked here, the account logs in only with the SSH keys of PUBKEY_SSH_FIRST_USER
# (Debian's sshd runs with UsePAM yes, which lets a password-locked account use keys).
# pi-gen feeds this file to bash inside ${ROOTFS_DIR}; FIRST_USER_NAME is exported by its build.sh.

user="${FIRST_USER_NAME:?FIRST_USER_NAME is not set (pi-gen exports it from the config)}"
if ! id "${user}" >/dev/null 2>&1; then
	echo "01-system: the maintenance account ${user} does not exist (pi-gen's stage1 creates it)" >&2
	exit 1
fi
usermod --lock "${user}"
[[ "$(passwd --status "${user}" | cut -d ' ' -f 2)" == "L" ]] || {
	echo "01-system: the password of ${user} is still usable after usermod --lock" >&2
	exit 1
}

# Remote maintenance root: SSH key + sudo without a password (the password is locked, so sudo could never
# ask for one). Whoever holds a key in authorized_keys and reaches sshd (KIOSK_SSH_FROM) is root; every
# sudo command is logged to the journal. pi-gen's PASSWORDLESS_SUDO=1 would do the same through
# raspi-config; written here so that the build checks it with visudo and the dry run can test it.
sudoers="/etc/sudoers.d/010_${user}-nopasswd"
[[ -d /etc/sudoers.d ]] || install -d -m 0755 /etc/sudoers.d
cat >"${sudoers}.new" <<SUDO
# Madoguchi image: the maintenance account (SSH keys only, password locked) may become root.
${user} ALL=(ALL:ALL) NOPASSWD: ALL
SUDO
chmod 0440 "${sudoers}.new"
if command -v visudo >/dev/null 2>&1 && ! visudo -c -q -f "${sudoers}.new"; then
	echo "01-system: ${sudoers} does not parse (visudo -c)" >&2
	rm -f "${sudoers}.new"
	exit 1
fi
mv -f "${sudoers}.new" "${sudoers}"
