"""`python -m simulator [--port 8765] [--host 127.0.0.1] [--quiet]`: serve until SIGTERM/SIGINT."""
import argparse

from simulator.server import serve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    parser.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, quiet=args.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
