/*
 * The XDP program that redirects an interface's frames into its XSKMAP (see af_xdp.h): loaded with
 * libbpf, attached in driver mode, detached only if it is still ours. Also keeps libbpf's and
 * libxdp's messages, which they would otherwise print, for the errors that can use them.
 */
#include "af_xdp.h"
#ifdef CB_HAVE_LIBXDP
#include "af_xdp_internal.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xdp/libxdp.h>

/* ---- library logging: never printed -------------------------------------------------------
 * libbpf and libxdp print warnings to stderr by default. The last one is kept so that a failure
 * can say more than an errno where the library had something to add. */

static _Thread_local char lib_message[128];

static void keep_message(const char *fmt, va_list ap)
{
	vsnprintf(lib_message, sizeof(lib_message), fmt, ap);
	size_t n = strlen(lib_message);
	while (n > 0 && (lib_message[n - 1] == '\n' || lib_message[n - 1] == ' '))
		lib_message[--n] = '\0';
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		keep_message(fmt, ap);
	return 0;
}

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_WARN)
		keep_message(fmt, ap);
	return 0;
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void install_quiet_printers(void)
{
	libbpf_set_print(quiet_libbpf);
	libxdp_set_print(quiet_libxdp);
}

void cb_xdp_quiet_libraries(void)
{
	pthread_once(&quiet_once, install_quiet_printers);
}

/* ---- the redirect program ----------------------------------------------------------------- */

/*
 * r2 = ctx->rx_queue_index; r1 = &xsks_map (p->map_fd, created by the registry); r3 = XDP_PASS;
 * return bpf_redirect_map(r1, r2, r3). The low bits of the flags argument are the action when no
 * socket is bound to the queue (5.3+), so frames on queues nobody captures go on to the stack.
 */
int cb_xdp_prog_load(struct cb_xdp_prog *p, const char *ifname, struct cb_error *e)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LDX | BPF_MEM | BPF_W,
		  .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1,
		  .off = offsetof(struct xdp_md, rx_queue_index) },
		{ .code = BPF_LD | BPF_DW | BPF_IMM,
		  .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = p->map_fd },
		{ .code = 0 }, /* second half of the 64-bit immediate */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	lib_message[0] = '\0';
	p->prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, CB_XSK_PROG_NAME, "Dual MIT/GPL", insns,
				   sizeof(insns) / sizeof(insns[0]), NULL);
	if (p->prog_fd < 0)
		return cb_fail(e, -p->prog_fd, "load the XDP redirect program for %s%s%s", ifname,
			       lib_message[0] ? ": " : "", lib_message);
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	int rc = bpf_obj_get_info_by_fd(p->prog_fd, &info, &len);
	if (rc < 0)
		return cb_fail(e, -rc, "read the id of the XDP program loaded for %s", ifname);
	p->prog_id = info.id;
	return 0;
}

static int attach_failed(struct cb_xdp_prog *p, const char *ifname, int err, struct cb_error *e)
{
	uint32_t other = 0;

	if (err == EBUSY || err == EEXIST) {
		bpf_xdp_query_id(p->ifindex, 0, &other);
		return cb_fail(e, err,
			       "attach XDP program to %s: it already has XDP program id %u, which "
			       "capbench did not attach and will not replace",
			       ifname, other);
	}
	if (err == EOPNOTSUPP)
		return cb_fail(e, err,
			       "attach XDP program to %s in driver (native) mode: its driver "
			       "has no native XDP",
			       ifname);
	return cb_fail(e, err, "attach XDP program %u to %s in driver (native) mode", p->prog_id,
		       ifname);
}

/*
 * Driver mode through a BPF link: the kernel detaches the program when the link's last file
 * descriptor closes, so a crashed or killed capbench leaves nothing attached. Kernels before 5.9
 * have no XDP links (EINVAL): there a netlink attach is used, which refuses to replace a program
 * already there (UPDATE_IF_NOEXIST) and survives the process.
 */
int cb_xdp_prog_attach(struct cb_xdp_prog *p, const char *ifname, struct cb_error *e)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts, .flags = XDP_FLAGS_DRV_MODE);
	int fd = bpf_link_create(p->prog_fd, p->ifindex, BPF_XDP, &lopts);

	if (fd >= 0) {
		p->link_fd = fd;
		p->attached = 1;
		return 0;
	}
	int err = -fd;
	if (err == EINVAL) {
		int rc = bpf_xdp_attach(p->ifindex, p->prog_fd,
					XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (rc == 0) {
			p->attached = 1;
			return 0;
		}
		err = -rc;
	}
	return attach_failed(p, ifname, err, e);
}

/* Detaches only our program: closing our link, or a netlink detach that names the program. */
static void detach_prog(struct cb_xdp_prog *p)
{
	if (p->link_fd >= 0) {
		close(p->link_fd);
		p->link_fd = -1;
	} else if (p->attached) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, dopts, .old_prog_fd = p->prog_fd);
		bpf_xdp_detach(p->ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &dopts);
	}
	p->attached = 0;
}

void cb_xdp_prog_unload(struct cb_xdp_prog *p)
{
	detach_prog(p);
	if (p->prog_fd >= 0)
		close(p->prog_fd);
}

#endif /* CB_HAVE_LIBXDP */
