"""python3 -m n4d plot SPIKES.h5|.csv -o raster.png [--kind raster|rates] [--bin MS]
python3 -m n4d version"""

import argparse
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m n4d",
                                 description="n4d Python tools (docs/python.md)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plot", help="plot a spike file written by `n4d run --spikes`")
    p.add_argument("spikes", help="spike file (.csv or .h5)")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    p.add_argument("--kind", choices=["raster", "rates"], default="raster")
    p.add_argument("--bin", type=float, default=5.0, help="rate bin in ms (default 5)")
    p.add_argument("--title", default=None)
    sub.add_parser("version", help="versions of the bindings and the library found")
    a = ap.parse_args(argv)
    if a.cmd == "version":
        import n4d
        print("n4d bindings %s, library %s (%s)" % (n4d.__version__, n4d.version(),
                                                    n4d.library_path()))
        return 0
    from . import plot
    try:
        if a.kind == "raster":
            plot.raster(a.spikes, path=a.output, title=a.title)
        else:
            plot.rates(a.spikes, bin_ms=a.bin, path=a.output, title=a.title)
    except (OSError, ValueError) as e:
        print("n4d: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s" % a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
