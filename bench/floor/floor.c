/*
 * floor: the syscall floor for the msgo benchmarks. One thread, level-
 * triggered epoll, no allocation after start: the least a server can do for
 * the surface the hubs share (WebSocket upgrade with any token, an echo
 * request/reply of msgo's shape, live.user.join into one room, and a
 * manager port whose POST /api/send/room pushes one frame to the room).
 * Whatever msgo costs above this is msgo's.
 *
 *   cc -O2 -o floor floor.c && ./floor [ws-port] [manager-port]
 *
 * It trusts its client (the msgo load generator on loopback): requests fit
 * in one read, frames are small, writes do not block for long.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define BUF 2048

enum { FREE, LISTEN_WS, LISTEN_MGR, HANDSHAKE, OPEN, HTTP };

struct conn {
	uint8_t kind;
	int32_t member; /* index in room[], or -1 */
	uint16_t have;  /* bytes pending in buf (a partial frame or request) */
	char *buf;      /* BUF bytes, from one arena, touched only when used */
};

static struct conn conns[MAXFD];
static char arena[(size_t)MAXFD * BUF];
static int room[MAXFD], nroom;
static unsigned char in[65536], out[65536];
static int ep;

/* SHA-1 (RFC 3174), for Sec-WebSocket-Accept. */
static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1block(uint32_t h[5], const unsigned char *p) {
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 16; i++) w[i] = p[4 * i] << 24 | p[4 * i + 1] << 16 | p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else f = b ^ c ^ d, k = 0xCA62C1D6;
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1(const unsigned char *msg, size_t len, unsigned char dig[20]) {
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
	unsigned char blk[128] = {0};
	size_t full = len / 64 * 64, rest = len - full, tail = rest < 56 ? 64 : 128;
	for (size_t off = 0; off < full; off += 64) sha1block(h, msg + off);
	memcpy(blk, msg + full, rest);
	blk[rest] = 0x80;
	for (int i = 0; i < 8; i++) blk[tail - 1 - i] = (uint64_t)len * 8 >> (8 * i);
	for (size_t b = 0; b < tail; b += 64) sha1block(h, blk + b);
	for (int i = 0; i < 20; i++) dig[i] = h[i / 4] >> (24 - 8 * (i % 4));
}

static int base64(const unsigned char *src, int n, char *dst) {
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int o = 0;
	for (int i = 0; i < n; i += 3) {
		uint32_t v = src[i] << 16 | (i + 1 < n ? src[i + 1] << 8 : 0) | (i + 2 < n ? src[i + 2] : 0);
		dst[o++] = t[v >> 18 & 63];
		dst[o++] = t[v >> 12 & 63];
		dst[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		dst[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	return o;
}

/* writeall writes n bytes, waiting for the socket if it is full. */
static int writeall(int fd, const void *p, size_t n) {
	const char *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = {fd, POLLOUT, 0};
			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0) return -1;
		b += w, n -= w;
	}
	return 0;
}

static void drop(int fd) {
	struct conn *c = &conns[fd];
	if (c->member >= 0) {
		int last = room[--nroom];
		room[c->member] = last;
		conns[last].member = c->member;
		c->member = -1;
	}
	c->kind = FREE, c->have = 0;
	close(fd);
}

/* frame appends a server text frame of payload p to dst. */
static size_t frame(unsigned char *dst, const char *p, size_t n) {
	size_t h = 2;
	dst[0] = 0x81;
	if (n < 126) dst[1] = n;
	else dst[1] = 126, dst[2] = n >> 8, dst[3] = n, h = 4;
	memcpy(dst + h, p, n);
	return h + n;
}

/* value finds "key": in the n bytes at s and returns its raw JSON value. */
static const char *value(const char *s, size_t n, const char *key, size_t *vl) {
	size_t kl = strlen(key);
	const char *p = memmem(s, n, key, kl);
	if (!p) return NULL;
	p += kl;
	while (p < s + n && (*p == ' ' || *p == ':')) p++;
	const char *e = p;
	if (*p == '"') {
		e = memchr(p + 1, '"', s + n - p - 1);
		if (!e) return NULL;
		e++;
	} else if (*p == '{') {
		int depth = 0;
		for (; e < s + n; e++) {
			if (*e == '{') depth++;
			else if (*e == '}' && --depth == 0) break;
		}
		if (e == s + n) return NULL;
		e++;
	} else {
		while (e < s + n && *e != ',' && *e != '}' && *e != ' ') e++;
	}
	*vl = e - p;
	return p;
}

/* request answers one client message; it returns the bytes added at o. */
static size_t request(int fd, char *m, size_t n, unsigned char *o) {
	char rep[512];
	size_t ml, il = 0;
	const char *method = value(m, n, "\"method\"", &ml), *id = value(m, n, "\"id\"", &il);
	if (!method || ml > 100) return 0;
	int l;
	for (size_t i = 0; i < ml; i++)
		if (m[method - m + i] >= 'A' && m[method - m + i] <= 'Z') m[method - m + i] += 32;
	if (ml == 16 && !memcmp(method, "\"live.user.join\"", 16)) {
		struct conn *c = &conns[fd];
		if (c->member < 0) room[nroom] = fd, c->member = nroom++;
		l = snprintf(rep, sizeof rep, "{\"status\":200,\"info\":\"success\",\"param\":{\"room\":\"bench\",\"online\":%d},\"event\":%.*s",
			     nroom, (int)ml, method);
	} else {
		l = snprintf(rep, sizeof rep, "{\"status\":200,\"info\":\"执行完成\",\"param\":{},\"event\":%.*s", (int)ml, method);
	}
	if (id && il < 100) l += snprintf(rep + l, sizeof rep - l, ",\"id\":%.*s", (int)il, id);
	rep[l++] = '}';
	return frame(o, rep, l);
}

/* frames reads the complete client frames in b, answers them with one
 * write, and returns the bytes used; -1 closes the connection. */
static long frames(int fd, unsigned char *b, size_t n) {
	size_t off = 0, o = 0;
	while (n - off >= 6) {
		unsigned char *f = b + off;
		size_t len = f[1] & 127, h = 2;
		if (len == 126) {
			if (n - off < 8) break;
			len = f[2] << 8 | f[3], h = 4;
		} else if (len == 127) {
			return -1;
		}
		if (!(f[1] & 0x80)) return -1;
		if (n - off < h + 4 + len) break;
		unsigned char *mask = f + h, *p = f + h + 4;
		for (size_t i = 0; i < len; i++) p[i] ^= mask[i & 3];
		int op = f[0] & 15;
		if (op == 8) {
			unsigned char cl[4] = {0x88, 2, 0x03, 0xe8};
			if (o) writeall(fd, out, o);
			writeall(fd, cl, 4);
			return -1;
		} else if (op == 9) {
			out[o] = 0x8a, out[o + 1] = len;
			memcpy(out + o + 2, p, len);
			o += 2 + len;
		} else if (op == 1 || op == 2) {
			o += request(fd, (char *)p, len, out + o);
		}
		off += h + 4 + len;
		if (o > sizeof out - 1024) writeall(fd, out, o), o = 0;
	}
	if (o && writeall(fd, out, o) < 0) return -1;
	return off;
}

static long handshake(int fd, char *b, size_t n) {
	char *end = memmem(b, n, "\r\n\r\n", 4);
	if (!end) return 0;
	char *k = memmem(b, end - b, "Sec-WebSocket-Key:", 18);
	if (!k) k = memmem(b, end - b, "sec-websocket-key:", 18);
	if (!k) return -1;
	k += 18;
	while (*k == ' ') k++;
	char *ke = memmem(k, end + 2 - k, "\r\n", 2);
	char key[128], acc[32], resp[256];
	int kl = ke - k;
	if (kl > 60) return -1;
	memcpy(key, k, kl);
	memcpy(key + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
	unsigned char dig[20];
	sha1((unsigned char *)key, kl + 36, dig);
	int al = base64(dig, 20, acc);
	int l = snprintf(resp, sizeof resp,
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %.*s\r\n\r\n",
			 al, acc);
	if (writeall(fd, resp, l) < 0) return -1;
	conns[fd].kind = OPEN;
	return end + 4 - b;
}

/* manager answers POST /api/send/room: the frame is built once and written
 * to every member. */
static long manager(int fd, char *b, size_t n) {
	char *end = memmem(b, n, "\r\n\r\n", 4);
	if (!end) return 0;
	char *cl = memmem(b, end - b, "Content-Length:", 15);
	if (!cl) cl = memmem(b, end - b, "content-length:", 15);
	size_t blen = cl ? strtoul(cl + 15, NULL, 10) : 0;
	size_t total = end + 4 - b + blen;
	if (total > n) return total > BUF ? -1 : 0;
	char *body = end + 4;
	size_t pl = 0, el = 0;
	const char *param = value(body, blen, "\"param\"", &pl), *ev = value(body, blen, "\"event\"", &el);
	int delivered = 0;
	if (param && ev) {
		char push[1024];
		int l = snprintf(push, sizeof push, "{\"status\":200,\"info\":\"\",\"param\":%.*s,\"event\":%.*s}", (int)pl, param,
				 (int)el, ev);
		size_t fl = frame(out, push, l);
		for (int i = 0; i < nroom; i++)
			if (writeall(room[i], out, fl) == 0) delivered++;
	}
	char ans[128], resp[256];
	int al = snprintf(ans, sizeof ans, "{\"code\":200,\"message\":\"ok\",\"data\":{\"delivered\":%d}}", delivered);
	int rl = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", al, ans);
	if (writeall(fd, resp, rl) < 0) return -1;
	return total;
}

static int listener(int port) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
		perror("listen");
		exit(1);
	}
	return fd;
}

static void add(int fd, int kind) {
	struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
	conns[fd].kind = kind, conns[fd].member = -1, conns[fd].have = 0;
	conns[fd].buf = arena + (size_t)fd * BUF;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

int main(int argc, char **argv) {
	int wsport = argc > 1 ? atoi(argv[1]) : 9501, mgrport = argc > 2 ? atoi(argv[2]) : 9502;
	ep = epoll_create1(0);
	add(listener(wsport), LISTEN_WS);
	add(listener(mgrport), LISTEN_MGR);
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct conn *c = &conns[fd];
			if (c->kind == LISTEN_WS || c->kind == LISTEN_MGR) {
				int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
				if (cfd < 0 || cfd >= MAXFD) {
					if (cfd >= 0) close(cfd);
					continue;
				}
				int one = 1;
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				add(cfd, c->kind == LISTEN_WS ? HANDSHAKE : HTTP);
				continue;
			}
			/* Pending bytes of a partial frame go first, then this read. */
			size_t have = c->have;
			if (have) memcpy(in, c->buf, have);
			ssize_t r = read(fd, in + have, sizeof in - have);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN) continue;
				drop(fd);
				continue;
			}
			size_t total = have + r;
			long used;
			switch (c->kind) {
			case HANDSHAKE: used = handshake(fd, (char *)in, total); break;
			case OPEN: used = frames(fd, in, total); break;
			default: used = manager(fd, (char *)in, total); break;
			}
			if (used < 0 || total - used > BUF) {
				drop(fd);
				continue;
			}
			c->have = total - used;
			if (c->have) memcpy(c->buf, in + used, c->have);
		}
	}
}
