#!/bin/sh
# NovaCron "tiny" guest: /init, run by busybox sh as PID 1.
#
# Contract with the host (tests and drivers rely on it):
#   - prints "NOVACRON-GUEST-READY" on its own line on the console once the disk
#     (/dev/vda at /data), network (DHCP on eth0), httpd :8080 and acpid are up;
#   - then "NOVACRON-HB <n>" every second, n = 1, 2, 3 ...;
#   - novacron.hostname=NAME sets the hostname (default: the seed's
#     local-hostname, else "tiny"), shown by httpd;
#   - a cloud-init NoCloud seed (an ISO 9660 CD-ROM labelled "cidata") is read
#     and summed up as "NOVACRON-CLOUDINIT instance-id=ID hostname=NAME
#     ssh-keys=N" before the READY line; no CD-ROM, no line and no waiting;
#   - novacron.dirty_mbps=N [novacron.dirty_mib=M] rewrites an M MiB working set
#     at about N MiB/s and prints "NOVACRON-DIRTY <N> MB/s" when it starts;
#   - the ACPI power button (QMP system_powerdown) syncs, unmounts and powers off;
#   - an interactive shell runs on the console, respawned whenever it exits.
# The build writes /etc/novacron/modules and /etc/novacron/modules.cdrom: kernel
# modules in load order (the IDE CD-ROM's are loaded in the background).

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
umask 022
# The build links the applets when it can run busybox; otherwise do it here.
[ -e /bin/mount ] || /bin/busybox --install -s

log() { echo "novacron-tiny: $*" > /dev/console; }

mount_pseudo() {
    mkdir -p /proc /sys /dev /run /tmp /var/log /data
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    # CONFIG_DEVTMPFS_MOUNT is off in Debian kernels, so /dev starts empty.
    mount -t devtmpfs devtmpfs /dev
    mkdir -p /dev/pts /dev/shm
    mount -t devpts devpts /dev/pts
    mount -t tmpfs -o mode=0755 tmpfs /run
    exec < /dev/console > /dev/console 2>&1
}

# cmdline_param NAME DEFAULT: value of NAME=... on the kernel command line.
cmdline_param() {
    for word in $(cat /proc/cmdline); do
        case "$word" in
            "$1="*) echo "${word#*=}"; return ;;
        esac
    done
    echo "$2"
}

# Non-negative integer or the default: the command line is user input.
as_uint() {
    case "$1" in
        '' | *[!0-9]*) echo "$2" ;;
        *) echo "$1" ;;
    esac
}

# load_modules LIST: insmod the modules named in LIST, in order.
load_modules() {
    [ -f "$1" ] || return 0
    while read -r mod; do
        [ -n "$mod" ] || continue
        insmod "/lib/modules/$mod" || log "insmod $mod failed"
    done < "$1"
}

# True when a virtio block device exists (its driver then creates /dev/vda).
have_virtio_disk() {
    for dev in /sys/bus/virtio/devices/*; do
        [ "$(cat "$dev/device" 2>/dev/null)" = "0x0002" ] && return 0
    done
    return 1
}

# True when DEV holds an ISO 9660 filesystem ("CD001" at byte 32769).
is_iso9660() {
    [ "$(dd if="$1" bs=1 skip=32769 count=5 2> /dev/null)" = CD001 ]
}

mount_data() {
    have_virtio_disk || return 0
    # The block driver probes asynchronously; give the node a moment to appear.
    tries=0
    while [ ! -b /dev/vda ] && [ $tries -lt 50 ]; do
        usleep 20000
        tries=$((tries + 1))
    done
    if is_iso9660 /dev/vda; then
        # Booted from a disk image: /dev/vda is the read-only boot ISO, not data.
        log "/dev/vda is the boot disk: no /data"
        return 0
    fi
    if mount -t ext4 /dev/vda /data 2>/dev/null || mount /dev/vda /data; then
        log "disk /dev/vda mounted at /data"
    else
        log "could not mount /dev/vda"
    fi
}

# --- cloud-init NoCloud seed ---------------------------------------------------
# What cloud-init's NoCloud datasource reads: an ISO 9660 filesystem labelled
# "cidata" (any case) holding meta-data and user-data, here on an IDE CD-ROM.

# seed_value FILE KEY: the value of a top-level "KEY: value" line of a YAML
# file, without quotes or trailing blanks.
seed_value() {
    sed -n "s/^$2:[[:space:]]*//p" "$1" 2> /dev/null | head -n 1 | tr -d '\r' |
        sed -e 's/[[:space:]]*$//' -e "s/^'\(.*\)'\$/\1/" -e 's/^"\(.*\)"$/\1/'
}

# seed_safe VALUE: VALUE when it is 1-255 characters of [A-Za-z0-9._:@+-], else
# empty: the seed is user input and ends up on the console and in hostname.
seed_safe() {
    case "$1" in
        '' | *[!A-Za-z0-9._:@+-]*) return 0 ;;
    esac
    [ ${#1} -le 255 ] && echo "$1"
}

# count_ssh_keys FILE...: distinct SSH public keys listed ("- TYPE AAAA... [comment]")
# in the files: user-data's ssh_authorized_keys, meta-data's public-keys. A key's
# base64 starts with AAAA (the length of its type name), which "- ssh-keygen -A"
# in a runcmd does not.
count_ssh_keys() {
    cat "$@" 2> /dev/null | tr -d '\r' |
        sed -n "s/^[[:space:]]*-[[:space:]]*['\"]\{0,1\}\(\(ssh\|ecdsa\|sk\)-[^[:space:]]*[[:space:]][[:space:]]*AAAA\)/\1/p" |
        sort -u | wc -l
}

# parse_seed DIR: SEED_ID, SEED_HOST and SEED_KEYS from DIR/meta-data and DIR/user-data.
parse_seed() {
    SEED_ID=$(seed_safe "$(seed_value "$1/meta-data" instance-id)")
    SEED_HOST=$(seed_safe "$(seed_value "$1/meta-data" local-hostname)")
    case "$SEED_HOST" in
        *[!A-Za-z0-9.-]* | -* | *- | .* | *.) SEED_HOST="" ;; # not a host name
    esac
    SEED_KEYS=$(count_ssh_keys "$1/user-data" "$1/meta-data")
}

# ide_has_devices: false only when every IDE channel is known to be empty, so
# that a boot without a CD-ROM does not pay for libata (~0.4 s of CPU under
# TCG). QEMU reads 0 from every register of a channel without devices, while the
# device/head register (offset 6) of a channel with one always has bits 5 and 7
# set; sysfs reads the controller's legacy ports through its PCI resources
# (resource0: 0x1f0-0x1f7, resource2: 0x170-0x177). Unreadable means "maybe".
ide_has_devices() {
    for ctl in /sys/bus/pci/devices/*; do
        read -r class < "$ctl/class" || continue
        case "$class" in
            0x0101*) ;; # an IDE controller
            *) continue ;;
        esac
        for bar in resource0 resource2; do
            # A NUL byte reads as an empty line (no fork but dd's).
            dd if="$ctl/$bar" of=/run/ide-reg bs=1 skip=6 count=1 2> /dev/null || return 0
            [ -s /run/ide-reg ] || return 0
            reg=""
            IFS= read -r reg < /run/ide-reg
            [ -z "$reg" ] || return 0
        done
    done
    return 1
}

# cdrom_devices: the /dev nodes of the CD-ROMs (SCSI type 5). insmod ata_piix
# returns once libata has probed the IDE ports, so without a CD-ROM there is
# nothing to wait for; with one, wait (bounded) for sr_mod's device node.
cdrom_devices() {
    for dev in /sys/bus/scsi/devices/*; do
        [ "$(cat "$dev/type" 2> /dev/null)" = 5 ] || continue
        tries=0
        while [ $tries -lt 100 ]; do
            found=""
            for blk in "$dev"/block/*; do
                [ -b "/dev/${blk##*/}" ] && found="/dev/${blk##*/}"
            done
            [ -n "$found" ] && break
            usleep 50000
            tries=$((tries + 1))
        done
        if [ -n "$found" ]; then echo "$found"; else log "CD-ROM ${dev##*/}: no device node"; fi
    done
}

# iso_label DEV: the ISO 9660 volume identifier (bytes 40-71 of the primary
# volume descriptor), lower-cased, without its padding.
iso_label() {
    is_iso9660 "$1" || return 0
    dd if="$1" bs=1 skip=32808 count=32 2> /dev/null | tr -d ' \000' | tr 'A-Z' 'a-z'
}

# read_seed: read the first cidata CD-ROM into /run/cidata and print its summary.
read_seed() {
    for cd in $(cdrom_devices); do
        [ "$(iso_label "$cd")" = cidata ] || continue
        mkdir -p /run/cidata.mnt
        if ! mount -t iso9660 -o ro "$cd" /run/cidata.mnt; then
            log "cannot mount the seed on $cd"
            continue
        fi
        mkdir -p -m 0700 /run/cidata
        cp /run/cidata.mnt/meta-data /run/cidata.mnt/user-data /run/cidata/ 2> /dev/null
        umount /run/cidata.mnt
        if [ ! -f /run/cidata/meta-data ]; then
            log "the seed on $cd has no meta-data"
            continue
        fi
        parse_seed /run/cidata
        echo "NOVACRON-CLOUDINIT instance-id=$SEED_ID hostname=$SEED_HOST ssh-keys=$SEED_KEYS"
        return 0
    done
}

write_udhcpc_script() {
    mkdir -p /etc/udhcpc
    cat > /etc/udhcpc/script <<'EOF'
#!/bin/sh
# busybox udhcpc hook: apply the lease (ip, mask as prefix length, router, dns).
case "$1" in
    deconfig)
        ip addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound | renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        : > /etc/resolv.conf
        for server in $dns; do echo "nameserver $server" >> /etc/resolv.conf; done
        ;;
esac
exit 0
EOF
    chmod 755 /etc/udhcpc/script
}

start_network() {
    ip link set lo up
    [ -e /sys/class/net/eth0 ] || return 0
    write_udhcpc_script
    # -b: go to the background after 5 tries instead of holding up the boot.
    udhcpc -i eth0 -s /etc/udhcpc/script -t 5 -T 1 -A 5 -b -p /run/udhcpc.pid \
        > /dev/null 2>&1 || log "udhcpc failed"
}

start_httpd() {
    mkdir -p /www
    cat > /www/index.html <<EOF
<!doctype html>
<title>$1</title>
<h1>NovaCron tiny guest</h1>
<p>hostname: $1</p>
<p>kernel: $(uname -r)</p>
EOF
    httpd -p 8080 -h /www || log "httpd failed"
}

write_poweroff_handler() {
    # busybox acpid maps the power button to /etc/acpi/PWRF/00000080.
    mkdir -p /etc/acpi/PWRF
    cat > /etc/acpi/PWRF/00000080 <<'EOF'
#!/bin/sh
echo "NOVACRON-POWEROFF" > /dev/console
sync
# A shell sitting in /data keeps it busy: fall back to read-only so the
# filesystem is clean either way.
umount /data 2> /dev/null || mount -o remount,ro /data 2> /dev/null
sync
# PID 1 is a shell, not an init that understands poweroff's signal: force it.
poweroff -f
EOF
    chmod 755 /etc/acpi/PWRF/00000080
}

start_acpid() {
    write_poweroff_handler
    # Without -l busybox acpid fails to open its default log and exits silently.
    acpid -c /etc/acpi -l /var/log/acpid.log || log "acpid failed"
}

heartbeat() {
    n=0
    while :; do
        n=$((n + 1))
        echo "NOVACRON-HB $n"
        sleep 1
    done
}

# Centiseconds since boot in $NOW, without forking (the workload paces itself with it).
now_cs() {
    read -r up _ < /proc/uptime
    NOW=$((${up%.*} * 100 + 1${up#*.} - 100))
}

# dirty_workload RATE_MIB_S WORKING_SET_MIB
# Copies random data from a source buffer into a working set, both on tmpfs,
# in 64 KiB units, ten ticks a second. Each pass over the working set starts
# at a different source offset (the source is 17 MiB and skips one more unit
# whenever the working set wraps), so every page gets data other than what it
# held the pass before: zero-page detection and xbzrle cannot skip it.
dirty_workload() {
    rate=$1
    ws_mib=$2
    src_mib=17
    ticks=10
    mkdir -p /dirty
    mount -t tmpfs -o size=$((ws_mib + src_mib + 1))m,mode=0700 dirty /dirty || return 1
    dd if=/dev/urandom of=/dirty/src bs=1M count=$src_mib 2> /dev/null || return 1
    ws_units=$((ws_mib * 16))
    src_units=$((src_mib * 16))
    dst=0
    src=0
    owed=0
    echo "NOVACRON-DIRTY $rate MB/s" > /dev/console
    now_cs
    next=$NOW
    while :; do
        # Carry the remainder so low rates are exact over a second.
        owed=$((owed + rate * 16))
        units=$((owed / ticks))
        owed=$((owed % ticks))
        while [ $units -gt 0 ]; do
            n=$units
            [ $n -gt $((ws_units - dst)) ] && n=$((ws_units - dst))
            [ $n -gt $((src_units - src)) ] && n=$((src_units - src))
            dd if=/dirty/src of=/dirty/ws bs=64k count=$n skip=$src seek=$dst \
                conv=notrunc 2> /dev/null
            units=$((units - n))
            dst=$(((dst + n) % ws_units))
            src=$(((src + n) % src_units))
            # Without this a working set of a multiple of 17 MiB would repeat its data.
            [ $dst -eq 0 ] && src=$(((src + 1) % src_units))
        done
        next=$((next + 100 / ticks))
        now_cs
        if [ $NOW -lt $next ]; then
            usleep $(((next - NOW) * 10000))
        elif [ $((NOW - next)) -gt 100 ]; then
            # More than a second behind (the vCPU cannot keep up): don't burst to catch up.
            next=$NOW
        fi
    done
}

start_dirty_workload() {
    rate=$(as_uint "$(cmdline_param novacron.dirty_mbps 0)" 0)
    [ "$rate" -gt 0 ] || return 0
    # QEMU counts distinct dirty pages per interval, so by default hold at
    # least one second of writes (and never less than 64 MiB).
    default_ws=64
    [ "$rate" -gt $default_ws ] && default_ws=$rate
    ws=$(as_uint "$(cmdline_param novacron.dirty_mib "$default_ws")" "$default_ws")
    [ "$ws" -gt 0 ] || ws=$default_ws
    # Leave the kernel room: a tmpfs that eats all memory stalls the guest (OOM).
    avail_kib=$(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo)
    max_ws=$((avail_kib / 1024 - 17 - 48))
    if [ "$ws" -gt "$max_ws" ]; then
        log "dirty working set cut from $ws to $max_ws MiB to fit in memory"
        ws=$max_ws
    fi
    if [ "$ws" -lt 1 ]; then
        log "no memory for the dirty workload"
        return 0
    fi
    log "dirtying a $ws MiB working set"
    dirty_workload "$rate" "$ws" > /dev/null 2>&1 &
}

console_shell() {
    # Respawn forever: PID 1 must never exit, and the host may connect later.
    while :; do
        # setsid + cttyhack make the console the shell's controlling tty (job control, ^C).
        setsid cttyhack sh -l
        sleep 1
    done
}

main() {
    mount_pseudo
    # The CD-ROM stack only when there may be a CD-ROM, and alongside the rest of
    # the boot; look for a seed once it is loaded.
    cdrom_modules=""
    if ide_has_devices; then
        load_modules /etc/novacron/modules.cdrom &
        cdrom_modules=$!
    fi
    load_modules /etc/novacron/modules
    mount_data
    start_network
    [ -z "$cdrom_modules" ] || wait "$cdrom_modules"
    SEED_HOST=""
    read_seed
    # The kernel command line wins over the seed (cloud-init has no say there).
    host=$(cmdline_param novacron.hostname "${SEED_HOST:-tiny}")
    hostname "$host"
    echo "$host" > /etc/hostname
    start_httpd "$host"
    start_acpid
    cat > /etc/profile <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
PS1='\h:\w# '
EOF
    sync
    echo
    echo "NOVACRON-GUEST-READY"
    heartbeat > /dev/console 2>&1 &
    start_dirty_workload
    console_shell
}

# Only as PID 1: the tests source this file to check its functions.
if [ "$$" = 1 ]; then
    main
fi
