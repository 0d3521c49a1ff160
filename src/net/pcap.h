/* SPDX-License-Identifier: MIT */
/*
 * pcap.h - a pcapng writer for `--pcap FILE`.
 *
 * Every frame a host sends or receives is written as an Enhanced Packet
 * Block, including frames received into the reserve and frames dropped
 * after demultiplexing; those carry a per-packet comment saying so
 * ("received into reserve net.rx (pfmemalloc)", "dropped: ...") that
 * Wireshark shows.  Linux's taps never see reserve packets; ours do, which
 * is the point: an emergency can be read frame by frame.
 *
 * The file is one section in the writer's own byte order, with one
 * Interface Description Block per device (link type Ethernet, nanosecond
 * timestamps).  A frame is given as a list of segments, so a netbuf's
 * linear part and its page fragments are written without being gathered.
 *
 * Memory rules: pcap_open() allocates the writer and its stdio buffer
 * (start-up, like the host itself); pcap_add_interface(), pcap_write() and
 * pcap_flush() never allocate, so capturing does not disturb the memory
 * model it records.  The writer is not thread-safe: one writer per host,
 * used from the host's thread.
 */
#ifndef LB_NET_PCAP_H
#define LB_NET_PCAP_H

#include <stddef.h>
#include <stdint.h>

/* Frames longer than this are truncated in the file (orig_len is kept). */
#define PCAP_SNAPLEN 262144u

struct pcap_writer;

enum pcap_dir {
	PCAP_DIR_IN,
	PCAP_DIR_OUT,
};

/* One contiguous piece of a frame; the frame is the segments in order. */
struct pcap_seg {
	const void *data;
	size_t len;
};

/*
 * Create (or truncate) @path and write the Section Header Block.  Returns
 * NULL with errno set on failure.
 */
struct pcap_writer *pcap_open(const char *path);

/*
 * Describe one more interface (Ethernet, snaplen PCAP_SNAPLEN, nanosecond
 * timestamps); @name may be NULL.  Returns its id (0, 1, ... in order of
 * calls) for pcap_write(), or -errno.
 */
int pcap_add_interface(struct pcap_writer *w, const char *name);

/*
 * Write one frame seen on interface @ifid at @ts_ns (nanoseconds since the
 * epoch, or since the start of a simulation).  The captured bytes are the
 * @nsegs segments, truncated to PCAP_SNAPLEN; @orig_len is the frame's
 * length on the wire and must not be less than the captured length.
 * @comment, if not NULL, is shown by Wireshark as the packet's comment
 * (at most 65535 bytes are kept).  Returns 0, -EINVAL for a bad argument,
 * or -errno of a failed write, after which every later call fails the same
 * way (a half-written block makes the rest of the file unreadable).
 */
int pcap_write(struct pcap_writer *w, int ifid, uint64_t ts_ns,
	       const struct pcap_seg *segs, unsigned nsegs, uint32_t orig_len,
	       enum pcap_dir dir, const char *comment);

/* Push buffered blocks to the file; 0 or -errno. */
int pcap_flush(struct pcap_writer *w);

/*
 * Flush, close and free @w (NULL is allowed).  Returns 0, or -errno of the
 * first failure: an earlier write, the flush or the final fclose().
 */
int pcap_close(struct pcap_writer *w);

#endif
