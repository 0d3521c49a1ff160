#!/bin/sh
# Install what lifeboat needs to build, test and benchmark on Debian 12.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -e

PKGS="build-essential meson ninja-build pkg-config libcmocka-dev clang \
libclang-rt-14-dev valgrind clang-format \
tshark iproute2 ethtool socat iputils-ping nftables \
nbd-server nbdkit vblade libnbd-bin libiscsi-bin tgt libnfs-utils \
nfs-ganesha nfs-ganesha-vfs rpcbind"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing packages:$missing"
	echo "deps: run as root:  apt-get install -y$missing"
	exit 1
fi
