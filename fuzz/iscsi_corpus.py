#!/usr/bin/env python3
# Writes the seed corpora of fuzz_iscsi_pdu (a target's bytes for our
# initiator) and fuzz_iscsi_target (an initiator's bytes for our target).
# Input format of both: control byte, then chunks of (u8 delay ms,
# u16 length, bytes).  Run from the repository root.
import os
import random
import struct


def bhs(op, flags=0, b2=0, b3=0, dlen=0, lun=0, itt=0, w=(0,) * 7, cdb=b""):
    h = bytes([op, flags, b2, b3, 0]) + dlen.to_bytes(3, "big")
    h += struct.pack(">QI", lun, itt) + struct.pack(">7I", *w)
    if cdb:
        h = h[:32] + cdb.ljust(16, b"\0")
    return h


def pad(d):
    return d + b"\0" * (-len(d) % 4)


def pdu(op, data=b"", **kw):
    return bhs(op, dlen=len(data), **kw) + pad(data)


def chunks(ctl, parts, delay=5):
    out = bytes([ctl])
    for p in parts:
        out += bytes([delay]) + struct.pack(">H", len(p)) + p
    return out


def put(corpus, name, data):
    with open(os.path.join("fuzz/corpus", corpus, name), "wb") as f:
        f.write(data)


# ---- a target's side, for the initiator --------------------------------------
def login_rsp(statsn=1, status=0):
    return pdu(0x23, flags=0x87, lun=1, itt=0xFFFEFF00,
               w=(0, statsn, 1, 64, status, 0, 0))


def scsi_rsp(itt, statsn, status=0, sense=b""):
    data = struct.pack(">H", len(sense)) + sense if sense else b""
    return pdu(0x21, data, flags=0x80, b3=status, itt=itt,
               w=(0, statsn, statsn, statsn + 64, 0, 0, 0))


def data_in(itt, data, datasn, off, statsn, final=True):
    return pdu(0x25, data, flags=0x81 if final else 0, itt=itt,
               w=(0xFFFFFFFF, statsn, statsn, statsn + 64, datasn, off, 0))


rc16 = struct.pack(">QI", 2047, 512).ljust(32, b"\0")
# MODE SENSE(6) header: DPOFUA set
mode = bytes([3, 0, 0x10, 0])
setup = [login_rsp(), scsi_rsp(0xFFFE0000, 2),
         data_in(0xFFFE0001, rc16, 0, 0, 3),
         data_in(0xFFFE0003, mode, 0, 0, 4)]
io = [data_in(0x00010000, bytes(range(256)) * 16, 0, 0, 5),
      scsi_rsp(0x00020001, 6),
      data_in(0x00030002, b"\x55" * 2048, 0, 0, 7, final=False),
      data_in(0x00030002, b"\xaa" * 2048, 1, 2048, 7),
      scsi_rsp(0x00040003, 8)]
put("iscsi_pdu", "valid", chunks(1, setup + io))
put("iscsi_pdu", "valid_noflush", chunks(0, setup + io[:-1]))
put("iscsi_pdu", "login_reject", chunks(0, [login_rsp(status=0x02030000)]))
ua = bytes([0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29, 0, 0, 0, 0, 0])
put("iscsi_pdu", "unit_attention",
    chunks(0, [login_rsp(), scsi_rsp(0xFFFE0000, 2, 2, ua),
               scsi_rsp(0xFFFE0000, 3),
               data_in(0xFFFE0001, rc16, 0, 0, 4),
               data_in(0xFFFE0003, mode, 0, 0, 5)]))
# LBPME: the provisioning and Block Limits pages, UNMAP offered
rc16p = bytearray(rc16)
rc16p[14] = 0xC0
lbp = bytes([0, 0xB2, 0, 4, 0, 0xE4, 2, 0])
bl = bytearray(64)
bl[1], bl[3] = 0xB0, 0x3C
bl[20:32] = struct.pack(">III", 24, 32, 8)
put("iscsi_pdu", "provisioning",
    chunks(0, [login_rsp(), scsi_rsp(0xFFFE0000, 2),
               data_in(0xFFFE0001, bytes(rc16p), 0, 0, 3),
               data_in(0xFFFE0003, mode, 0, 0, 4),
               data_in(0xFFFE0004, lbp, 0, 0, 5),
               data_in(0xFFFE0005, bytes(bl), 0, 0, 6)]))
# CHAP (control bit 2 gives the client credentials): the method, a
# challenge, the acceptance, then the operational stage as above
def sec_rsp(statsn, flags, data):
    return pdu(0x23, data, flags=flags, itt=0xFFFEFF00,
               w=(0, statsn, 1, 64, 0, 0, 0))


chap = [sec_rsp(0, 0x00, b"AuthMethod=CHAP\0"),
        sec_rsp(0, 0x00, b"CHAP_A=5\0CHAP_I=7\0CHAP_C=0x" +
                b"5a" * 16 + b"\0"),
        sec_rsp(0, 0x81, b"")]
put("iscsi_pdu", "chap", chunks(4, chap + setup + io[:2]))
nop = pdu(0x20, flags=0x80, itt=0xFFFFFFFF, w=(5, 5, 5, 69, 0, 0, 0))
put("iscsi_pdu", "target_ping", chunks(0, setup + [nop] + io[:2]))
r2t = pdu(0x31, flags=0x80, itt=0x00020001, w=(7, 6, 6, 70, 0, 4096, 4096))
put("iscsi_pdu", "stray_r2t", chunks(0, setup + [r2t]))
random.seed(11)
put("iscsi_pdu", "garbage",
    chunks(0, [login_rsp(), bytes(random.randrange(256) for _ in range(300))]))

# ---- an initiator's side, for the target -------------------------------------
ISID = 0x8012345678990000


def text(*kv):
    return b"".join(k.encode() + b"=" + v.encode() + b"\0" for k, v in kv)


def login_req(session="Normal", extra=()):
    keys = [("InitiatorName", "iqn.2026-01.org.example:fuzz"),
            ("SessionType", session)]
    if session == "Normal":
        keys.append(("TargetName", "iqn.2026-01.org.lifeboat:disk"))
    keys += [("HeaderDigest", "None"), ("DataDigest", "None"),
             ("MaxRecvDataSegmentLength", "8192"),
             ("ImmediateData", "Yes"), ("InitialR2T", "Yes"),
             ("FirstBurstLength", "65536"), ("MaxBurstLength", "262144")]
    keys += list(extra)
    return pdu(0x43, text(*keys), flags=0x87, lun=ISID, itt=1,
               w=(0, 1, 0, 0, 0, 0, 0))


def cmd(itt, cmdsn, cdb, edtl=0, flags=0x81, data=b""):
    return pdu(0x01, data, flags=flags, itt=itt, cdb=cdb,
               w=(edtl, cmdsn, 1, 0, 0, 0, 0))


def cdb(*b):
    return bytes(b)


inq = cmd(2, 1, cdb(0x12, 0, 0, 0, 96, 0), 96, 0xC1)
vpd = cmd(3, 2, cdb(0x12, 1, 0x83, 0, 255, 0), 255, 0xC1)
rd = cmd(4, 3, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0), 4096, 0xC1)
wr = cmd(5, 4, cdb(0x2A, 0, 0, 0, 0, 8, 0, 0, 16, 0), 8192, 0xA1,
         bytes([0x11]) * 4096)
dout = pdu(0x05, bytes([0x22]) * 4096, flags=0x80, itt=5,
           w=(1, 0, 1, 0, 0, 4096, 0))
ws = cmd(6, 5, cdb(0x41, 0x08, 0, 0, 0, 32, 0, 0, 8, 0), 512, 0xA1,
         bytes(512))
unmap_list = struct.pack(">HH4x", 22, 16) + struct.pack(">QI4x", 64, 8)
um = cmd(7, 6, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, len(unmap_list), 0),
         len(unmap_list), 0xA1, unmap_list)
ms = cmd(8, 7, cdb(0x1A, 0, 0x3F, 0, 255, 0), 255, 0xC1)
rl = cmd(9, 8, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), 256, 0xC1)
nopo = pdu(0x00, b"ping", flags=0x80, itt=10, w=(0xFFFFFFFF, 9, 1, 0, 0, 0, 0))
bad = cmd(11, 10, cdb(0xFF), 0, 0x81)
logout = pdu(0x46, flags=0x80, itt=12, w=(0, 11, 1, 0, 0, 0, 0))
put("iscsi_target", "session",
    chunks(0, [login_req(), inq, vpd, rd, wr, dout, ws, um, ms, rl, nopo,
               bad, logout]))
put("iscsi_target", "digests",
    chunks(0, [login_req(extra=[]).replace(b"HeaderDigest=None",
                                           b"HeaderDigest=CRC32C,None"),
               inq]))
put("iscsi_target", "discovery",
    chunks(0, [login_req("Discovery"),
               pdu(0x04, text(("SendTargets", "All")), flags=0x80, itt=2,
                   w=(0xFFFFFFFF, 1, 1, 0, 0, 0, 0)),
               pdu(0x46, flags=0x80, itt=3, w=(0, 2, 2, 0, 0, 0, 0))]))
put("iscsi_target", "wrong_target",
    chunks(0, [login_req().replace(b"lifeboat:disk", b"lifeboat:nope")]))
# control bit 0: the target asks for CHAP; the response here is wrong
put("iscsi_target", "chap",
    chunks(1, [pdu(0x43, text(("InitiatorName", "iqn.2026-01.org.example:fuzz"),
                              ("SessionType", "Normal"),
                              ("TargetName", "iqn.2026-01.org.lifeboat:disk"),
                              ("AuthMethod", "CHAP,None")),
                   flags=0x81, lun=ISID, itt=1, w=(0, 1, 0, 0, 0, 0, 0)),
               pdu(0x43, text(("CHAP_A", "5")), flags=0x00, lun=ISID, itt=1,
                   w=(0, 1, 1, 0, 0, 0, 0)),
               pdu(0x43, text(("CHAP_N", "fuzz"), ("CHAP_R", "0x" + "00" * 16)),
                   flags=0x81, lun=ISID, itt=1, w=(0, 1, 2, 0, 0, 0, 0))]))
put("iscsi_target", "garbage",
    chunks(0, [login_req(), bytes(random.randrange(256) for _ in range(300))]))
