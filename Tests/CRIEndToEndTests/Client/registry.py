"""A real registry on loopback for pull tests: Debian's docker-registry (distribution 2.8),
fronted by a small bearer-token gate so PullImage's token flow is exercised end to end.

The gate answers 401 with `WWW-Authenticate: Bearer realm=…/token,service=…,scope=…` to
requests without the token, serves the token at /token, and forwards authorised requests
to the registry unchanged.
"""
import http.client
import http.server
import json
import os
import socket
import subprocess
import threading
import time

TOKEN = "capstan-test-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    def __init__(self, base):
        self.base = base
        self.port = free_port()
        self.gate_port = free_port()
        self.token_requests = 0
        config = os.path.join(base, "registry.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {base}/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{self.port}
""")
        self.process = subprocess.Popen(["docker-registry", "serve", config], stdout=subprocess.DEVNULL,
                                        stderr=open(os.path.join(base, "registry.log"), "ab"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("docker-registry did not start")
        self.gate = http.server.ThreadingHTTPServer(("127.0.0.1", self.gate_port), self._handler())
        threading.Thread(target=self.gate.serve_forever, daemon=True).start()

    @property
    def address(self):
        """Registry address clients pull from (the token gate)."""
        return f"127.0.0.1:{self.gate_port}"

    def push_layout(self, layout, tag, repository, all_platforms=False):
        """Copies an OCI layout's image into the registry with skopeo (directly, no gate)."""
        command = ["skopeo", "copy", "--dest-tls-verify=false"]
        if all_platforms:
            command.append("--all")
        command += [f"oci:{layout}:{tag}", f"docker://127.0.0.1:{self.port}/{repository}"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def close(self):
        self.gate.shutdown()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def _handler(registry):
        class Gate(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.startswith("/token"):
                    registry.token_requests += 1
                    body = json.dumps({"token": TOKEN}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate",
                                     f'Bearer realm="http://{registry.address}/token",service="test-registry",'
                                     f'scope="repository:test/busybox:pull"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept",)}
                upstream.request("GET", self.path, headers=headers)
                response = upstream.getresponse()
                body = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() in ("content-type", "docker-content-digest", "location"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

        return Gate


def add_foreign_platform(layout):
    """Turns a single-image OCI layout into a two-platform index (linux/amd64 + linux/arm64),
    so pulls must pick the host's entry from a manifest list. Returns the index digest."""
    import hashlib

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
            f.write(data)
        return "sha256:" + digest, len(data)

    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    native = index["manifests"][0]
    with open(os.path.join(layout, "blobs", "sha256", native["digest"][7:])) as f:
        manifest = json.load(f)
    manifest["annotations"] = {"capstan.test/platform": "arm64"}
    foreign_digest, foreign_size = put(json.dumps(manifest).encode())
    image_index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": native["mediaType"], "digest": foreign_digest, "size": foreign_size,
             "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": native["mediaType"], "digest": native["digest"], "size": native["size"],
             "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    }
    index_digest, index_size = put(json.dumps(image_index).encode())
    index["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": index_digest,
                           "size": index_size, "annotations": native.get("annotations", {})}]
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    return native["digest"]
