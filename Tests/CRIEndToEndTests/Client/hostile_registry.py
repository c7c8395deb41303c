"""A registry on loopback that serves hostile images, for PullImage's defences.

Each repository is one case: a manifest with a bad or `../` digest, a blob larger or smaller
than its descriptor declares, sizes over the shim's limits, a gzip bomb, layers whose
entries escape (absolute paths, `..`, writing through a symlink, hard links out), and an
endless manifest. Two well-behaved repositories check where credentials go: `good` needs
basic auth through a token realm on the registry's own host and redirects its blobs to a
second server on another loopback address; `foreign-realm` names a token realm on that
other address, which must be asked without credentials.

Every request is recorded (path, Authorization header) per server, so tests can tell what
was fetched and who saw credentials.
"""
import base64
import gzip
import hashlib
import http.server
import io
import json
import socket
import tarfile
import threading

USER, PASSWORD = "puller", "s3cret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
OWN_TOKEN, FOREIGN_TOKEN = "own-realm-token", "foreign-realm-token"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(entries):
    """A gzip-compressed tar of (TarInfo-like dict) entries."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry["name"])
            info.type = entry.get("type", tarfile.REGTYPE)
            info.linkname = entry.get("link", "")
            info.mode = 0o755 if info.type == tarfile.DIRTYPE else 0o644
            content = entry.get("content", b"")
            info.size = len(content) if info.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(content) if info.size else None)
    return gzip.compress(raw.getvalue(), mtime=0)


class Server:
    """One threaded HTTP server on `host`, answering through `route(handler) -> bool`."""

    def __init__(self, host, route):
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.requests.append((self.path, self.headers.get("Authorization")))
                if not route(self):
                    self.send_error(404)

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def seen(self, fragment):
        with self.lock:
            return [(path, auth) for path, auth in self.requests if fragment in path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(handler, status, body=b"", headers=()):
    handler.send_response(status)
    for key, value in headers:
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class HostileRegistry:
    def __init__(self, outside, limits):
        """`outside`: a folder outside the shim's state the escaping layers aim at.
        `limits`: the shim's --max-blob-bytes, --max-image-bytes, --max-unpacked-layer-bytes."""
        self.outside = outside
        self.repos = {}  # name -> {"manifest": bytes, "blobs": {digest: bytes}, "lie": {digest: bytes}}
        self.other = Server("127.0.0.2", self._other_route)
        self.main = Server("127.0.0.1", self._main_route)
        self.address = f"127.0.0.1:{self.main.port}"
        self._build(limits)

    # -- images ----------------------------------------------------------------------

    def _image(self, name, layers, config=None, config_digest=None, layer_descriptors=None):
        """Registers repository `name`: a manifest over `layers` (bytes each)."""
        # Each image its own configuration: the image id is the configuration's digest.
        config = config or json.dumps({"architecture": "amd64", "os": "linux",
                                       "config": {"Cmd": ["sh"], "Labels": {"repository": name}},
                                       "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        blobs = {digest(config): config}
        descriptors = []
        for data in layers:
            blobs[digest(data)] = data
            descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(data),
                                "size": len(data)})
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": config_digest or digest(config), "size": len(config)},
                    "layers": layer_descriptors or descriptors}
        self.repos[name] = {"manifest": json.dumps(manifest).encode(), "blobs": blobs}
        return self.repos[name]

    def _build(self, limits):
        max_blob, max_image, max_unpacked = limits
        victim = f"{self.outside}/victim"
        good_layer = layer_tar([{"name": "hello.txt", "content": b"hello"}])
        self._image("good", [good_layer])
        self._image("foreign-realm", [layer_tar([{"name": "foreign.txt", "content": b"x"}])])
        self._image("bad-digest", [good_layer], layer_descriptors=[
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + "Z" * 64, "size": 10}])
        self._image("dotdot-digest", [good_layer], config_digest="sha256:../../../../../.." + self.outside + "/dotdot")
        self._image("dotdot-layer-digest", [good_layer], layer_descriptors=[
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
             "digest": "sha256:../../../../../.." + self.outside + "/dotdot", "size": 10}])
        huge = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + "ab" * 32,
                "size": max_blob + 1}
        self._image("oversized-blob", [good_layer], layer_descriptors=[huge])
        self.repos["oversized-config"] = {"manifest": json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "cd" * 32,
                       "size": (4 << 20) + 1},
            "layers": []}).encode(), "blobs": {}}
        parts = [dict(huge, digest="sha256:" + f"{i:02x}" * 32, size=max_image // 2) for i in range(3)]
        self._image("oversized-image", [good_layer], layer_descriptors=parts)
        overflow = [dict(huge, digest="sha256:" + f"{i:02x}" * 32, size=2**63 - 1) for i in range(2)]
        self._image("overflowing-sizes", [good_layer], layer_descriptors=overflow)
        # Lying sizes: the descriptor declares one size, the blob that arrives has another
        # (its digest is the digest of what arrives, so only the size tells).
        longer = layer_tar([{"name": "longer.txt", "content": b"y" * 4000}])
        self._image("lying-size-longer", [longer], layer_descriptors=[
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(longer), "size": 100}])
        self._image("lying-size-shorter", [longer], layer_descriptors=[
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(longer),
             "size": len(longer) + 1000}])
        bomb = layer_tar([{"name": "zeros", "content": bytes(max_unpacked * 4)}])
        assert len(bomb) < max_unpacked // 10, "a gzip bomb: small compressed, large unpacked"
        self._image("gzip-bomb", [bomb])
        self._image("absolute-path", [layer_tar([{"name": self.outside + "/absolute", "content": b"x"}])])
        self._image("dotdot-path", [layer_tar([{"name": "../../../../../.." + self.outside + "/dotdot-path",
                                                 "content": b"x"}])])
        self._image("symlink-escape", [layer_tar([
            {"name": "escape", "type": tarfile.SYMTYPE, "link": self.outside},
            {"name": "escape/through-symlink", "content": b"x"}])])
        self._image("relative-symlink-escape", [layer_tar([
            {"name": "up", "type": tarfile.SYMTYPE, "link": "../../../../../../../../.."},
            {"name": "up" + self.outside + "/through-relative-symlink", "content": b"x"}])])
        self._image("hardlink-escape", [layer_tar([
            {"name": "victim-link", "type": tarfile.LNKTYPE, "link": victim},
            {"name": "victim-link", "content": b"overwritten"}])])
        self._image("hardlink-dotdot", [layer_tar([
            {"name": "victim-link", "type": tarfile.LNKTYPE, "link": "../../../../../../.." + victim}])])
        self.repos["endless-manifest"] = {"manifest": None, "blobs": {}}

    # -- routes ----------------------------------------------------------------------

    def _main_route(self, handler):
        path = handler.path
        if path.startswith("/token"):
            if handler.headers.get("Authorization") != BASIC:
                reply(handler, 401)
                return True
            body = json.dumps({"token": OWN_TOKEN}).encode()
            reply(handler, 200, body, [("Content-Type", "application/json")])
            return True
        if not path.startswith("/v2/"):
            return False
        repo_name, kind, reference = path[4:].rsplit("/", 2)
        repo = self.repos.get(repo_name)
        if repo is None:
            return False
        expected = f"Bearer {FOREIGN_TOKEN if repo_name == 'foreign-realm' else OWN_TOKEN}"
        if handler.headers.get("Authorization") != expected:
            realm = (f"http://{self.other.host}:{self.other.port}/token" if repo_name == "foreign-realm"
                     else f"http://{self.address}/token")
            reply(handler, 401, headers=[("WWW-Authenticate",
                                          f'Bearer realm="{realm}",service="hostile",scope="repository:{repo_name}:pull"')])
            return True
        if kind == "manifests":
            if repo["manifest"] is None:
                return self._endless(handler)
            reply(handler, 200, repo["manifest"], [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
            return True
        blob = repo["blobs"].get(reference)
        if blob is None:
            return False
        if repo_name == "good":
            # Blobs live elsewhere, as registries keep them on storage hosts.
            reply(handler, 307, headers=[("Location", f"http://{self.other.host}:{self.other.port}/storage/{reference}")])
            return True
        reply(handler, 200, blob, [("Content-Type", "application/octet-stream")])
        return True

    def _other_route(self, handler):
        path = handler.path
        if path.startswith("/token"):
            body = json.dumps({"token": FOREIGN_TOKEN}).encode()
            reply(handler, 200, body, [("Content-Type", "application/json")])
            return True
        if path.startswith("/storage/"):
            blob = self.repos["good"]["blobs"].get(path.rsplit("/", 1)[1])
            if blob is not None:
                reply(handler, 200, blob)
                return True
        return False

    def _endless(self, handler):
        """A manifest that never ends (chunked, 1 MiB at a time) until the client hangs up."""
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(64):  # bounded: 64 MiB at most
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        handler.close_connection = True
        return True

    def reference(self, repo):
        return f"{self.address}/{repo}:v1"

    def close(self):
        self.main.close()
        self.other.close()
