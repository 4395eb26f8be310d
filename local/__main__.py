"""python -m local  (what `make run` starts). PORT overrides the HTTP port (default 3000)."""

from __future__ import annotations

import os
import signal
import sys
import threading

from local.runtime import LocalRuntime


def main() -> int:
    runtime = LocalRuntime(port=int(os.environ.get("PORT", "3000")), quiet=os.environ.get("QUIET") == "1")
    demo = runtime.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(
        f"""
Factura is running (local runtime, moto at {demo["aws_endpoint_url"]}).

  API base URL : {demo["base_url"]}/api/v1/
  Demo tenant  : {demo["tenant_id"]}
  Demo API key : {demo["api_key"]}
  Credentials  : .local/demo.json      E-mail outbox: .local/outbox/

Try:
  curl -u {demo["api_key"]}: {demo["base_url"]}/api/v1/account.xml

Ctrl-C stops everything.
""",
        flush=True,
    )
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
