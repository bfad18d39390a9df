#!/usr/bin/env python3
"""tamper.py - what an attacker (or a crash) does to a trailguard file store,
for the tamper and fault tests.  It knows store format 2 (sinks/segment.h):
the chain sidecar's 96-byte header and its member entries ("TGM2", u32
records, u64 end offset, i64 min/max time, u32 ext length, u32 0, link[32],
then 4 bytes per record and the ext bytes: the member's skip index,
sinks/skipidx.h, a 12-byte header and a Bloom filter), and both data files:
gzip members (.ndjson.gz) and zstd frames (.ndjson.zst, made with the zstd
tool, with their content size and checksum as the writer makes them).

Low-level edits:
  tamper.py members SIDECAR              "index records start end min max" per entry
  tamper.py set-time SIDECAR I MIN MAX   set entry I's time range (ns)
  tamper.py set-records SIDECAR I N      set entry I's record count field
  tamper.py set-end SIDECAR I OFF        set entry I's end offset field
  tamper.py insert DATA OFF BYTES        insert BYTES (python escapes) at OFF
  tamper.py insert-file DATA OFF F       insert the contents of file F at OFF
Named tampers of the matrix (tests/integration/tamper_matrix.sh), applied to
segment SEQ of the store DIR (members are 0-based):
  tamper.py apply DIR NAME SEQ
The store's own records of its end:
  tamper.py set-head DIR SEQ I           chain.head as it was after entry I of SEQ
  tamper.py cut-checkpoints DIR N        drop checkpoints counting more than N records
  tamper.py records-after DIR SEQ I      records in the store after entry I of SEQ
  tamper.py flip-head DIR                change the first digit of chain.head's link
  tamper.py data DIR SEQ                 the path of segment SEQ's data file
"""
import gzip
import os
import struct
import subprocess
import sys
import tempfile
import zlib

HDR, ENTRY = 96, 72


def entries(data):
    pos, start, out = HDR, 0, []
    while pos + ENTRY <= len(data) and data[pos:pos + 4] == b"TGM2":
        recs, end, mn, mx, ext = struct.unpack_from("<IQqqI", data, pos + 4)
        size = ENTRY + 4 * recs + ext
        if pos + size > len(data):
            break
        out.append({"pos": pos, "size": size, "records": recs, "start": start, "end": end,
                    "min": mn, "max": mx, "ext": pos + ENTRY + 4 * recs, "ext_len": ext})
        start = end
        pos += size
    return out


def zstd_compress(raw):
    """One zstd frame with its content size and checksum (a file's size is
    known to the tool, stdin's is not)."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(raw)
        f.flush()
        return subprocess.run(["zstd", "-q", "-3", "--check", "-c", f.name], check=True,
                              stdout=subprocess.PIPE).stdout


def zstd_decompress(frame):
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=frame, check=True,
                          stdout=subprocess.PIPE).stdout


def data_path(base):
    """The segment's data file: .ndjson.zst when there is one, else .ndjson.gz."""
    return base + ".ndjson.zst" if os.path.exists(base + ".ndjson.zst") else base + ".ndjson.gz"


def rd(path):
    return bytearray(open(path, "rb").read())


def wr(path, data):
    open(path, "wb").write(data)


class Segment:
    """A segment's data split into members, and its sidecar, editable together."""

    def __init__(self, d, seq):
        self.base = os.path.join(d, "seg-%010d" % seq)
        self.chain = rd(self.base + ".chain")
        self.path = data_path(self.base)
        self.zstd = self.path.endswith(".zst")
        self.data = rd(self.path)
        self.ent = entries(self.chain)

    def pack(self, recs):
        """One member of this segment's kind holding recs."""
        raw = b"".join(r + b"\n" for r in recs)
        return zstd_compress(raw) if self.zstd else gzip.compress(raw, mtime=0)

    def magic(self):
        return b"\x28\xb5\x2f\xfd" if self.zstd else b"\x1f\x8b"

    def records(self, i):
        e = self.ent[i]
        blob = bytes(self.data[e["start"]:e["end"]])
        raw = zstd_decompress(blob) if self.zstd else gzip.decompress(blob)
        return raw.split(b"\n")[:-1]

    def fp(self, i, k, value):
        struct.pack_into("<I", self.chain, self.ent[i]["pos"] + ENTRY + 4 * k, value)

    def replace_member(self, i, recs, fix_offsets=True):
        """Member i's bytes become pack(recs); later offsets follow when fix_offsets."""
        e = self.ent[i]
        new = self.pack(recs)
        self.data[e["start"]:e["end"]] = new
        if fix_offsets:
            delta = len(new) - (e["end"] - e["start"])
            for f in self.ent[i:]:
                struct.pack_into("<Q", self.chain, f["pos"] + 8, f["end"] + delta)

    def save(self):
        wr(self.base + ".chain", self.chain)
        wr(self.path, self.data)


def apply(d, name, seq):
    s = Segment(d, seq)
    crc = lambda r: zlib.crc32(r) & 0xffffffff
    if name == "record-change":
        r = s.records(0)
        r[4] = r[4].replace(b'"kind":"event"', b'"kind":"alert"')
        s.replace_member(0, r)
    elif name == "record-change-fp":  # and its fingerprint fixed: only the link tells
        r = s.records(0)
        r[4] = r[4].replace(b'"kind":"event"', b'"kind":"alert"')
        s.replace_member(0, r)
        s.fp(0, 4, crc(r[4]))
    elif name == "record-delete":
        r = s.records(0)
        del r[4]
        s.replace_member(0, r)
    elif name == "record-swap":
        r = s.records(0)
        r[4], r[5] = r[5], r[4]
        s.replace_member(0, r)
    elif name == "record-insert":
        r = s.records(0)
        r.insert(4, r[4].replace(b'"kind":"event"', b'"kind":"extra"'))
        s.replace_member(0, r)
    elif name == "member-delete-data":  # its bytes gone, its entry left
        e = s.ent[1]
        del s.data[e["start"]:e["end"]]
    elif name == "member-delete":  # its bytes and its entry gone, later offsets fixed
        e = s.ent[1]
        n = e["end"] - e["start"]
        del s.data[e["start"]:e["end"]]
        for f in s.ent[2:]:
            struct.pack_into("<Q", s.chain, f["pos"] + 8, f["end"] - n)
        del s.chain[e["pos"]:e["pos"] + e["size"]]
    elif name == "member-swap":  # data and entries of members 0 and 1 swapped
        a, b = s.ent[0], s.ent[1]
        ma, mb = s.data[a["start"]:a["end"]], s.data[b["start"]:b["end"]]
        s.data[a["start"]:b["end"]] = mb + ma
        ea, eb = s.chain[a["pos"]:a["pos"] + a["size"]], s.chain[b["pos"]:b["pos"] + b["size"]]
        struct.pack_into("<Q", eb, 8, len(mb))
        struct.pack_into("<Q", ea, 8, len(mb) + len(ma))
        s.chain[a["pos"]:b["pos"] + b["size"]] = eb + ea
    elif name == "member-insert":  # a forged member and an entry for it
        e = s.ent[0]
        forged = [r.replace(b'"kind":"event"', b'"kind":"forged"') for r in s.records(0)[:2]]
        blob = s.pack(forged)
        s.data[e["end"]:e["end"]] = blob
        ent = bytearray(s.chain[e["pos"]:e["pos"] + ENTRY])
        struct.pack_into("<IQ", ent, 4, 2, e["end"] + len(blob))
        ent += struct.pack("<II", crc(forged[0]), crc(forged[1]))
        for f in s.ent[1:]:
            struct.pack_into("<Q", s.chain, f["pos"] + 8, f["end"] + len(blob))
        at = e["pos"] + e["size"]
        s.chain[at:at] = ent
    elif name == "bytes-insert":
        e = s.ent[0]
        s.data[e["end"]:e["end"]] = s.magic() + b"JUNK"
    elif name == "byte-flip":
        e = s.ent[1]
        s.data[(e["start"] + e["end"]) // 2] ^= 0x40
    elif name == "sidecar-time":
        e = s.ent[1]
        struct.pack_into("<qq", s.chain, e["pos"] + 16, 2**63 - 1, -2**63)
    elif name == "sidecar-offset":
        e = s.ent[0]
        struct.pack_into("<Q", s.chain, e["pos"] + 8, e["end"] + 1)
    elif name == "sidecar-count":  # the count and the fingerprint list shortened together
        e = s.ent[1]
        struct.pack_into("<I", s.chain, e["pos"] + 4, e["records"] - 1)
        del s.chain[e["pos"] + ENTRY:e["pos"] + ENTRY + 4]
    elif name == "sidecar-link":
        s.chain[s.ent[1]["pos"] + 40] ^= 1
    elif name == "index-clear":  # the skip index says "nothing here": hides the member
        e = s.ent[1]
        s.chain[e["ext"] + 12:e["ext"] + e["ext_len"]] = bytes(e["ext_len"] - 12)
    elif name == "index-fill":  # the skip index says "everything here"
        e = s.ent[1]
        s.chain[e["ext"] + 12:e["ext"] + e["ext_len"]] = b"\xff" * (e["ext_len"] - 12)
    elif name == "index-version":  # an index of a version readers do not know
        s.chain[s.ent[1]["ext"]] = 99
    elif name == "index-drop":  # the entry without its index (as before issue 13)
        e = s.ent[1]
        struct.pack_into("<I", s.chain, e["pos"] + 32, 0)
        del s.chain[e["ext"]:e["ext"] + e["ext_len"]]
    elif name == "crash-torn-member":  # a member cut short after the last entry
        blob = s.pack(s.records(0)[:3])
        s.data += blob[:len(blob) // 2]
    elif name == "crash-unchained-member":  # a whole member, no entry yet
        s.data += s.pack(s.records(0)[:3])
    elif name == "crash-partial-entry":
        e = s.ent[-1]
        s.chain += s.chain[e["pos"]:e["pos"] + 40]
    elif name == "crash-entry-no-data":  # the last member's data never reached the disk
        e = s.ent[-1]
        del s.data[e["start"]:]
    else:
        sys.exit("unknown tamper " + name)
    s.save()


def records_after(d, seq, i):
    s = Segment(d, seq)
    first = struct.unpack_from("<Q", s.chain, 24)[0]
    return first + sum(e["records"] for e in s.ent[:i + 1])


def set_head(d, seq, i):
    s = Segment(d, seq)
    e = s.ent[i]
    first_member = struct.unpack_from("<Q", s.chain, 32)[0]
    link = s.chain[e["pos"] + 40:e["pos"] + 72].hex()
    line = ("trailguard-chain-head 2 segment=%020d records=%020d members=%020d link=%s"
            % (seq, records_after(d, seq, i), first_member + i + 1, link))
    wr(os.path.join(d, "chain.head"), (line.ljust(191) + "\n").encode())


def cut_checkpoints(d, n):
    import json
    p = os.path.join(d, "checkpoints.ndjson")
    keep = [l for l in open(p) if json.loads(l)["records"] <= n]
    open(p, "w").write("".join(keep))


def main(argv):
    cmd = argv[1]
    if cmd == "apply":
        apply(argv[2], argv[3], int(argv[4]))
        return
    if cmd == "set-head":
        set_head(argv[2], int(argv[3]), int(argv[4]))
        return
    if cmd == "cut-checkpoints":
        cut_checkpoints(argv[2], int(argv[3]))
        return
    if cmd == "flip-head":
        p = os.path.join(argv[2], "chain.head")
        h = rd(p)
        i = h.index(b"link=") + 5
        h[i] = ord("1") if h[i] == ord("0") else ord("0")
        wr(p, h)
        return
    if cmd == "data":
        print(data_path(os.path.join(argv[2], "seg-%010d" % int(argv[3]))))
        return
    if cmd == "records-after":
        print(records_after(argv[2], int(argv[3]), int(argv[4])))
        return
    path = argv[2]
    data = rd(path)
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
        else:
            sys.exit("unknown command " + cmd)
    wr(path, data)


main(sys.argv)
