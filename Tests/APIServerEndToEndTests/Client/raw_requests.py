"""Sends raw HTTP requests to a Capstan server, one after another, on fresh
TLS connections, exactly as written (method, path with its query left as is,
headers, body), and reports what came back.

Usage: raw_requests.py BASE_URL CA_FILE < requests.json > responses.json

requests.json: [{"method": "GET", "path": "/api/v1/pods", "headers": {...},
                 "body": "..." or null}, ...]
responses.json: [{"status": 200, "body": "..."}, ...] in the same order.

Python's http.client is used rather than a Kubernetes client because the
point is to send what a hostile client would: any verb, any path, any
content type, a token or none.
"""

import http.client
import json
import ssl
import sys
import urllib.parse


def main():
    base = urllib.parse.urlparse(sys.argv[1])
    context = ssl.create_default_context(cafile=sys.argv[2]) if base.scheme == "https" else None
    requests = json.load(sys.stdin)
    responses = []
    for request in requests:
        if context is not None:
            connection = http.client.HTTPSConnection(base.hostname, base.port, context=context, timeout=30)
        else:
            connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        body = request.get("body")
        try:
            connection.request(
                request["method"], request["path"], body=body.encode() if body is not None else None,
                headers=request.get("headers") or {})
            response = connection.getresponse()
            responses.append({"status": response.status, "body": response.read().decode("utf-8", "replace")})
        except Exception as error:  # reported, not raised: the test says which request broke
            responses.append({"status": 0, "body": f"request failed: {error!r}"})
        finally:
            connection.close()
    json.dump(responses, sys.stdout)


if __name__ == "__main__":
    main()
