#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for trying and testing `hydra/launcher=slurm`.
#
#   scripts/local_slurm.sh install   # Debian/Ubuntu: apt-get install slurm-wlm munge when missing (root)
#   scripts/local_slurm.sh start     # write slurm.conf for localhost, start munged, slurmctld, slurmd
#   scripts/local_slurm.sh status    # sinfo and squeue
#   scripts/local_slurm.sh stop      # stop the three daemons (only the ones this script started)
#
# Runs as root (the daemons drop nothing; slurmd must be root to launch jobs as their users). The node
# offers LOCAL_SLURM_CPUS CPUs (default 2) and the machine's memory minus 10 %, in one partition `local`.
# Process tracking is by /proc (proctrack/linuxproc) and no cgroup plugin is used, so it also runs inside
# containers that do not delegate cgroups. Everything the daemons write lies in LOCAL_SLURM_DIR.
set -euo pipefail

STATE_DIR="${LOCAL_SLURM_DIR:-/var/tmp/ldl-local-slurm}"
CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"
CPUS="${LOCAL_SLURM_CPUS:-2}"
NODE="$(hostname -s)"
MUNGED_PID_FILE=/run/munge/munged.pid

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "local_slurm.sh: $1 needs root (the SLURM daemons run as root here)." >&2
    exit 1
  fi
}

install_packages() {
  need_root install
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    && command -v sbatch >/dev/null; then
    return 0
  fi
  if ! command -v apt-get >/dev/null; then
    echo "local_slurm.sh: slurm-wlm and munge are missing and there is no apt-get to install them." >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_conf() {
  local memory_mb
  # 90 % of the machine's memory: slurmd drains a node that reports less than RealMemory.
  memory_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
  mkdir -p "$(dirname "$CONF")" "$STATE_DIR/spool/ctld" "$STATE_DIR/spool/d" "$STATE_DIR/log"
  cat >"$CONF" <<EOF
# Written by scripts/local_slurm.sh: a one-node cluster on localhost.
ClusterName=ldl-local
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=${STATE_DIR}/spool/ctld
SlurmdSpoolDir=${STATE_DIR}/spool/d
SlurmctldPidFile=${STATE_DIR}/slurmctld.pid
SlurmdPidFile=${STATE_DIR}/slurmd.pid
SlurmctldLogFile=${STATE_DIR}/log/slurmctld.log
SlurmdLogFile=${STATE_DIR}/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# No cgroups: containers often do not delegate them, and one test node needs no confinement.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${STATE_DIR}/log/jobs.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${memory_mb} State=UNKNOWN
PartitionName=local Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    return 0  # a munged is already answering
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  # The pid file lies in munge's own run directory: munged runs as munge and writes it itself.
  runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGED_PID_FILE"
  touch "$STATE_DIR/munged.started-here"
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "local_slurm.sh: munged did not start; see /var/log/munge/munged.log." >&2
  exit 1
}

wait_for_node() {
  local state
  for _ in $(seq 120); do
    state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)
    case "$state" in
      idle | mix | alloc) return 0 ;;
      drain* | down*)
        scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  echo "local_slurm.sh: node $NODE did not become idle (state: ${state:-none}). Last daemon log lines:" >&2
  tail -n 5 "$STATE_DIR/log/slurmctld.log" "$STATE_DIR/log/slurmd.log" >&2 || true
  exit 1
}

daemon_failed() {
  echo "local_slurm.sh: $1 did not start. Its log ($STATE_DIR/log/$1.log) ends with:" >&2
  tail -n 5 "$STATE_DIR/log/$1.log" >&2 || true
  stop
  exit 1
}

start() {
  need_root start
  install_packages
  mkdir -p "$STATE_DIR"
  write_conf
  start_munge
  # -i: ignore saved state from an earlier start (jobs, node states); -c: clear it.
  /usr/sbin/slurmctld -i -c || daemon_failed slurmctld
  for _ in $(seq 50); do
    scontrol ping 2>/dev/null | grep -q UP && break
    sleep 0.2
  done
  /usr/sbin/slurmd || daemon_failed slurmd
  wait_for_node
  echo "local SLURM cluster up: node $NODE, ${CPUS} CPUs, partition local (config $CONF, state $STATE_DIR)"
}

# Whether pid is the named daemon, running: a pid file left by an earlier boot may name another
# process by now, and a daemon that exited stays a zombie until its parent reaps it (a caller that
# made itself a child subreaper, as the cluster tests do, adopts the daemons), which kill -0 passes.
alive() {
  local pid="$1" name="$2" stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  [ "$(echo "${stat##*) }" | cut -d' ' -f1)" != Z ]
}

stop_pid_file() {
  local pid_file="$1" name="$2" pid
  [ -s "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  if alive "$pid" "$name"; then
    kill -TERM "$pid"
    for _ in $(seq 100); do
      alive "$pid" "$name" || break
      sleep 0.1
    done
    if alive "$pid" "$name"; then
      echo "local_slurm.sh: $name (pid $pid) did not stop on SIGTERM; sending SIGKILL." >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file"
}

stop() {
  need_root stop
  if command -v scancel >/dev/null && [ -s "$STATE_DIR/slurmctld.pid" ]; then
    scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
  fi
  stop_pid_file "$STATE_DIR/slurmd.pid" slurmd
  stop_pid_file "$STATE_DIR/slurmctld.pid" slurmctld
  # Job steps that outlived slurmd (slurmstepd) are ours too: they were started by this cluster.
  for pid in $(pgrep -x slurmstepd 2>/dev/null || true); do
    kill -TERM "$pid" 2>/dev/null || true
  done
  if [ -e "$STATE_DIR/munged.started-here" ]; then
    stop_pid_file "$MUNGED_PID_FILE" munged
    rm -f "$STATE_DIR/munged.started-here"
  fi
  echo "local SLURM cluster stopped"
}

status() {
  sinfo
  squeue
}

case "${1:-}" in
  install) install_packages ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
