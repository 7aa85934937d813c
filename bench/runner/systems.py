"""The systems under test: how to start each one and the paths of its endpoints."""
from .procs import *  # noqa: F401,F403


class System:
    def __init__(self, name, cmd, paths, env=None, cwd=None, setup=None, note="", only=None):
        self.name, self.cmd, self.paths, self.env, self.cwd, self.setup, self.note = name, cmd, paths, env, cwd, setup, note
        self.only = only  # {scenario: sizes or None} an extra row runs in; None = every scenario
        self.proc = None
        self.port = None

    def start(self, out_dir, extra_env=None, port=None):
        self.port = port or free_port()
        cmd = [c.replace("@PORT@", str(self.port)) for c in self.cmd]
        if self.setup:
            cmd = self.setup(self, out_dir) or cmd
        env = {k: v.replace("@PORT@", str(self.port)) for k, v in (self.env or {}).items()}
        env.update(extra_env or {})
        self.proc = spawn(cmd, env=env, cwd=self.cwd, log_path=os.path.join(out_dir, f"{self.name}.log"))
        if not wait_port(self.port, self.proc):
            self.stop()
            raise RuntimeError(f"{self.name} did not start (see {self.name}.log)")
        time.sleep(0.1)
        return self

    def runs(self, scenario, size=None):
        """Whether this system takes part in `scenario` (at `size`)."""
        if self.only is None:
            return True
        if scenario not in self.only:
            return False
        return self.only[scenario] is None or size in self.only[scenario]

    def url(self, key):
        return f"http://127.0.0.1:{self.port}{self.paths[key]}"

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None
        if getattr(self, "scratch", None):  # nginx's directory of this start
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def nchan_setup(system, out_dir):
    d = tempfile.mkdtemp(prefix="nchan-", dir=os.path.join(out_dir, "raw"))
    conf = open(os.path.join(HERE, "peers/nchan/nginx.conf.in")).read()
    conf = conf.replace("@PORT@", str(system.port)).replace("@DIR@", d)
    open(os.path.join(d, "nginx.conf"), "w").write(conf)
    system.scratch = d
    return ["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d]


def make_systems(bin_dir):
    sse_paths = {"sse": "/api/v1/sse/events?channels=bench", "pub": "/api/v1/bench/publish",
                 "reval_sse": "/api/v1/sse/events?channels=revalidation", "list": "/api/v1/posts/",
                 "mutate": "/api/v1/posts/", "query": "/api/v1/bench/query"}
    mutate_body = '{"title":"bench","content":"revalidation round trip"}'
    systems = [
        # The default configuration (AppOptions defaults: handlers on the worker pool, one log line per
        # request); max_connections is raised past its derived default (a tenth of RLIMIT_NOFILE kept in
        # reserve) because this machine's descriptor limit is 20 000 and the largest size is 19 000.
        System("igniter-cpp", [os.path.join(bin_dir, "igniter_bench")], sse_paths,
               env={"PORT": "@PORT@", "MAX_CONNECTIONS": "19900"},
               note="the default configuration: handlers on the worker pool (8 threads), request log on"),
        # The extra row: how the bench server ran before (handlers on the I/O threads, no request log).
        System("igniter-cpp-io", [os.path.join(bin_dir, "igniter_bench")], sse_paths,
               env={"PORT": "@PORT@", "MAX_CONNECTIONS": "19900", "WORKER_THREADS": "0", "LOG_LEVEL": "off"},
               note="extra row, not the default: handlers on the I/O threads, no request log",
               only={"fanout": None, "revalidation": None, "http": None}),
        System("igniter-js", ["node", "server.mjs"], sse_paths, env={"PORT": "@PORT@"},
               cwd=os.path.join(HERE, "peers/igniter-js"), note="Igniter.js 0.3.40, Node " + node_version()),
        System("nchan", ["nginx"], {"sse": "/sub", "pub": "/pub", "reval_sse": "/reval/sub", "list": "/list",
                                    "mutate": "/reval/pub", "query": "/query"}, setup=nchan_setup,
               note="nginx " + nginx_version() + " + Nchan, 2 workers"),
        System("bare", [os.path.join(bin_dir, "bare"), "@PORT@"], {"sse": "/sub", "pub": "/pub", "reval_sse": "/sub",
                                                                   "list": "/list", "mutate": "/pub"},
               note="bench/bare/bare.c: one thread, one write per socket"),
    ]
    for s in systems:
        s.mutate_body = mutate_body if s.name.startswith("igniter") else '{"queryKeys":["posts.list"]}'
    return systems


def node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def nginx_version():
    try:
        return subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
    except OSError:
        return "?"


def available(system):
    if system.name == "igniter-js":
        return shutil.which("node") and os.path.isdir(os.path.join(HERE, "peers/igniter-js/node_modules/@igniter-js/core"))
    if system.name == "nchan":
        return shutil.which("nginx") and os.path.exists("/usr/lib/nginx/modules/ngx_nchan_module.so")
    return os.path.exists(system.cmd[0])
