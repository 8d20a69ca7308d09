"""Rebuild the trimmed crime files in this folder (provenance record).

Not needed at run time: ``benchmarks/crime_data.py`` reads the ``*.csv.gz``
files directly.  This script documents exactly how they were produced from
the raw public CSVs (see README.md for sources and licences).  It expects the
raw CSVs already extracted into a scratch folder (default /tmp/crime):

* ``phl_incidents_YYYY_MM.csv``  -- Philadelphia monthly extracts, 2016-01..2026-02
  (git show 8ca456b:data/raw/philly_crime_data/incidents_YYYY_MM.csv in
  github.com/dustinober1/Philadelphia-Crime-Incidents-Analysis)
* ``van_YYYY.csv`` -- Vancouver VPD yearly extracts 2020..2022
  (crimedata_csv_AllNeighbourhoods_YYYY.csv in
  github.com/ibrahim1623/STAT-201-Project)

Usage: python benchmarks/data/prepare.py [RAW_DIR]
"""

from __future__ import annotations

import glob
import os
import sys

import pandas as pd
from pyproj import Transformer

HERE = os.path.dirname(os.path.abspath(__file__))


def _write(df: pd.DataFrame, name: str) -> None:
    df = df.sort_values("t", kind="stable").reset_index(drop=True)
    out = pd.DataFrame(
        {
            "x": df["x"].round(1),
            "y": df["y"].round(1),
            "t": df["t"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "type": df["type"],
        }
    )
    path = os.path.join(HERE, f"{name}.csv.gz")
    out.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {path}: {len(out)} rows, {os.path.getsize(path) / 1e6:.2f} MB")


def philadelphia(raw: str) -> None:
    files = sorted(glob.glob(os.path.join(raw, "phl_incidents_*.csv")))
    cols = ["dc_key", "dispatch_date", "dispatch_time", "text_general_code", "point_x", "point_y"]
    df = pd.concat([pd.read_csv(f, usecols=cols, dtype=str) for f in files], ignore_index=True)
    print("philadelphia: raw rows (all types)", len(df))
    df = df[df["text_general_code"] == "Burglary Residential"].copy()
    print("  Burglary Residential rows", len(df))
    n = len(df)
    df = df.drop_duplicates(subset="dc_key")
    print("  dropped duplicate dc_key", n - len(df))
    df["t"] = pd.to_datetime(
        df["dispatch_date"] + " " + df["dispatch_time"], format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    # keep whole calendar years (the last monthly file, 2026-01, is partial)
    n = len(df)
    df = df[(df["t"] >= "2016-01-01") & (df["t"] < "2026-01-01")]
    print("  dropped outside 2016-01-01..2025-12-31 (incl. bad dates)", n - len(df))
    lon = pd.to_numeric(df["point_x"], errors="coerce")
    lat = pd.to_numeric(df["point_y"], errors="coerce")
    miss = lon.isna() | lat.isna()
    print("  dropped missing coordinates", int(miss.sum()))
    # City of Philadelphia bounding box (generous)
    bad = ~miss & ~((lon.between(-75.30, -74.95)) & (lat.between(39.86, 40.14)))
    print("  dropped outside city bbox", int(bad.sum()))
    keep = ~(miss | bad)
    df, lon, lat = df[keep], lon[keep], lat[keep]
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32618", always_xy=True)
    x, y = tr.transform(lon.to_numpy(), lat.to_numpy())
    df = df.assign(x=x, y=y, type=df["text_general_code"])
    _write(df, "philadelphia")


def vancouver(raw: str) -> None:
    files = sorted(glob.glob(os.path.join(raw, "van_202[0-2].csv")))
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    print("vancouver: raw rows (all types)", len(df), "from", files)
    df = df[df["TYPE"].str.startswith("Break and Enter")].copy()
    print("  Break and Enter rows", len(df))
    df["t"] = pd.to_datetime(
        dict(
            year=df["YEAR"],
            month=df["MONTH"],
            day=df["DAY"],
            hour=df["HOUR"].fillna(0),
            minute=df["MINUTE"].fillna(0),
        ),
        errors="coerce",
    )
    n = len(df)
    df = df[df["t"].notna()]
    print("  dropped bad dates", n - len(df))
    x = pd.to_numeric(df["X"], errors="coerce")
    y = pd.to_numeric(df["Y"], errors="coerce")
    miss = x.isna() | y.isna() | (x == 0) | (y == 0)
    print("  dropped missing/zero coordinates", int(miss.sum()))
    # City of Vancouver bbox in UTM 10N (NAD83) metres
    bad = ~miss & ~(x.between(480_000, 500_000) & y.between(5_449_000, 5_463_000))
    print("  dropped outside city bbox", int(bad.sum()))
    keep = ~(miss | bad)
    df = df[keep].assign(x=x[keep], y=y[keep], type=df["TYPE"][keep])
    _write(df, "vancouver")


if __name__ == "__main__":
    raw_dir = sys.argv[1] if len(sys.argv) > 1 else "/tmp/crime"
    philadelphia(raw_dir)
    vancouver(raw_dir)
