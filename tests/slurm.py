"""A real one-node SLURM cluster for the tests: Debian's slurm-wlm, munge, slurmdbd and MariaDB,
started as they run on a cluster (munged, mariadbd, slurmdbd, slurmctld, slurmd), private to one
directory: its own munge key and socket, its own database, ports, state and spool, ``SLURM_CONF``
pointing at its ``slurm.conf``. The accounting database is there because submitit watches its jobs
with ``sacct`` (without one it warns at every poll and guesses their states). No cgroup plugin
(``proctrack/linuxproc``, ``task/none``): it runs as root in a container. ``python -m tests.slurm
DIR`` starts one by hand and prints the environment to use it."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")
TOOLS = ("mariadb-install-db", "mariadb", "sbatch", "sinfo", "squeue", "scontrol", "scancel", "sacct")
INSTALL = "apt-get install slurm-wlm slurmdbd munge mariadb-server"
NODE = "node1"
PARTITION = "debug"
KILL_WAIT = 5  # s between a job's SIGTERM and its SIGKILL (a preempted job's time to checkpoint)


def missing() -> str | None:
    """Why no cluster can start here (a binary absent, not root), or None."""
    for name in DAEMONS + TOOLS:
        if shutil.which(name) is None and not Path("/usr/sbin", name).is_file():
            return f"{name} is not installed ({INSTALL})"
    if os.geteuid() != 0:
        return "the test cluster's daemons run as root"
    return None


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


DB_PASSWORD = "heatmap-latent-test"  # a database on 127.0.0.1 of a throwaway directory


def slurmdbd_conf(root: Path, dbd_port: int, db_port: int) -> str:
    return f"""\
AuthType=auth/munge
AuthInfo=socket={root}/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={dbd_port}
SlurmUser=root
PidFile={root}/slurmdbd.pid
LogFile={root}/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={db_port}
StorageUser=slurm
StoragePass={DB_PASSWORD}
StorageLoc=slurm_acct_db
"""


def slurm_conf(root: Path, cpus: int, memory_mb: int, dbd_port: int) -> str:
    ctld, slurmd = _free_port(), _free_port()
    return f"""\
ClusterName=heatmaplatent
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
KillWait={KILL_WAIT}
JobRequeue=1
MinJobAge=600
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={dbd_port}
AccountingStoragePass={root}/munge/munge.socket
JobAcctGatherType=jobacct_gather/linux
NodeName={NODE} NodeAddr=127.0.0.1 NodeHostname={socket.gethostname()} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""


@dataclasses.dataclass
class Cluster:
    root: Path
    cpus: int
    memory_mb: int
    processes: list[subprocess.Popen] = dataclasses.field(default_factory=list)
    started_s: float = 0.0  # from the first daemon's start to the node idle

    @property
    def env(self) -> dict[str, str]:
        """The environment a client (sbatch, hydra's submitit launcher) needs: this cluster's conf."""
        return dict(os.environ, SLURM_CONF=str(self.root / "slurm.conf"))

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def spawn(self, daemon: str, *args: str) -> None:
        """Start a daemon in the foreground, its output in ``log/<daemon>.out``."""
        with open(self.root / "log" / f"{daemon}.out", "w") as out:
            self.processes.append(
                subprocess.Popen([_binary(daemon), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT)
            )

    def node_state(self) -> str:
        done = self.run("sinfo", "-h", "-n", NODE, "-o", "%T", check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    def log(self, name: str) -> str:
        path = self.root / "log" / f"{name}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop(self) -> None:
        """Cancel what is left of the jobs, then stop the daemons, the last started first."""
        if self.processes and all(p.poll() is None for p in self.processes):
            self.run("scancel", "--user=root", check=False)
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def start(root: Path, cpus: int | None = None, memory_mb: int | None = None, timeout_s: float = 60) -> Cluster:
    """Start munged, the accounting (mariadbd, slurmdbd), slurmctld and slurmd under ``root``;
    return once the node is idle."""
    root = Path(root).resolve()
    cpus = cpus or os.cpu_count() or 1
    memory_mb = memory_mb or _memory_mb() - 1024
    for sub in ("munge", "state", "spool", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    (root / "munge").chmod(0o700)
    dbd_port, db_port = _free_port(), _free_port()
    (root / "slurm.conf").write_text(slurm_conf(root, cpus, memory_mb, dbd_port))
    # beside slurm.conf: where slurmdbd reads it
    (root / "slurmdbd.conf").write_text(slurmdbd_conf(root, dbd_port, db_port))
    (root / "slurmdbd.conf").chmod(0o600)
    cluster = Cluster(root, cpus, memory_mb)
    up = functools.partial(wait_for, poll_s=0.2, cluster=cluster)  # fails at once if a daemon exits
    t0 = time.perf_counter()
    try:
        cluster.spawn(
            "munged",
            "--foreground",
            "--force",
            f"--socket={root}/munge/munge.socket",
            f"--key-file={key}",
            f"--pid-file={root}/munge/munged.pid",
            f"--log-file={root}/log/munged.log",
            f"--seed-file={root}/munge/munged.seed",
        )
        up(lambda: (root / "munge" / "munge.socket").exists(), 10, "munged's socket")
        _database(cluster, db_port)
        cluster.spawn("slurmdbd", "-D")
        up(lambda: "slurmdbd version" in cluster.log("slurmdbd"), timeout_s, "slurmdbd serving")
        cluster.spawn("slurmctld", "-D", "-i", "-f", str(root / "slurm.conf"))
        cluster.spawn("slurmd", "-D", "-N", NODE, "-f", str(root / "slurm.conf"))
        up(lambda: cluster.node_state() == "idle", timeout_s, "the node idle in sinfo")
    except BaseException:
        cluster.stop()
        raise
    cluster.started_s = time.perf_counter() - t0
    return cluster


def _database(cluster: Cluster, port: int) -> None:
    """A MariaDB of its own on 127.0.0.1 and a user ``slurm`` for slurmdbd."""
    root = cluster.root
    up = functools.partial(wait_for, poll_s=0.2, cluster=cluster)
    subprocess.run(
        [_binary("mariadb-install-db"), "--user=root", f"--datadir={root}/db",
         "--auth-root-authentication-method=socket", "--skip-test-db"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    sock = root / "db.sock"
    cluster.spawn(
        "mariadbd", "--no-defaults", "--user=root", f"--datadir={root}/db", f"--socket={sock}", f"--port={port}",
        "--bind-address=127.0.0.1", f"--pid-file={root}/db.pid", f"--log-error={root}/log/mariadbd.log",
    )  # fmt: skip
    up(sock.exists, 30, "mariadbd's socket")
    sql = (
        f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
        "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
    )
    subprocess.run([_binary("mariadb"), f"--socket={sock}", "-e", sql], capture_output=True, text=True, check=True)


def wait_for(predicate, timeout_s: float, what: str, poll_s: float = 0.5, cluster: Cluster | None = None):
    """Poll ``predicate`` until it returns something true; fail naming ``what`` (and, while a
    ``cluster`` starts, as soon as one of its daemons has exited, with their logs)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        dead = [p.args[0] for p in cluster.processes if p.poll() is not None] if cluster else []
        if dead or time.monotonic() > deadline:
            logs = {n: cluster.log(n)[-1500:] for n in DAEMONS} if cluster else {}
            raise RuntimeError(f"no {what} within {timeout_s} s (exited: {dead}); logs: {logs}")
        time.sleep(poll_s)


if __name__ == "__main__":
    cluster = start(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/slurm-cluster"))
    print(f"started in {cluster.started_s:.1f} s: export SLURM_CONF={cluster.root / 'slurm.conf'}")
    print("press Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        cluster.stop()
