#!/usr/bin/env python3
"""store_edit.py - what an attacker (or a crash) does to a file store, for the
tamper and fault tests: edit a format-2 chain sidecar (sinks/segment.h) and
the gzip data by member.

  store_edit.py members SIDECAR          print "index records start end min max" per entry
  store_edit.py set-time SIDECAR I MIN MAX   set entry I's time range (ns)
  store_edit.py set-records SIDECAR I N  set entry I's record count field
  store_edit.py set-end SIDECAR I OFF    set entry I's end offset field
  store_edit.py cut-entries SIDECAR I    remove entry I and every later one
  store_edit.py insert DATA OFF BYTES    insert BYTES (python escapes) at OFF
  store_edit.py insert-file DATA OFF F   insert the contents of file F at OFF
"""
import struct
import sys

HDR, ENTRY = 96, 72


def entries(data):
    pos, start, out = HDR, 0, []
    while pos + ENTRY <= len(data) and data[pos:pos + 4] == b"TGM2":
        recs, end, mn, mx, ext = struct.unpack_from("<IQqqI", data, pos + 4)
        size = ENTRY + 4 * recs + ext
        if pos + size > len(data):
            break
        out.append({"pos": pos, "records": recs, "start": start, "end": end, "min": mn, "max": mx})
        start = end
        pos += size
    return out


def main(argv):
    cmd, path = argv[1], argv[2]
    data = bytearray(open(path, "rb").read())
    if cmd == "members":
        for i, e in enumerate(entries(data)):
            print(i, e["records"], e["start"], e["end"], e["min"], e["max"])
        return
    if cmd == "insert":
        off, extra = int(argv[3]), argv[4].encode().decode("unicode_escape").encode("latin-1")
        data[off:off] = extra
    elif cmd == "insert-file":
        data[int(argv[3]):int(argv[3])] = open(argv[4], "rb").read()
    else:
        e = entries(data)[int(argv[3])]
        if cmd == "set-time":
            struct.pack_into("<qq", data, e["pos"] + 16, int(argv[4]), int(argv[5]))
        elif cmd == "set-records":
            struct.pack_into("<I", data, e["pos"] + 4, int(argv[4]))
        elif cmd == "set-end":
            struct.pack_into("<Q", data, e["pos"] + 8, int(argv[4]))
        elif cmd == "cut-entries":
            del data[e["pos"]:]
        else:
            sys.exit("unknown command " + cmd)
    open(path, "wb").write(data)


main(sys.argv)
