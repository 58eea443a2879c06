// SPDX-License-Identifier: Apache-2.0
#include "lb_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>

static __u32 ipv4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return htonl(a << 24 | b << 16 | c << 8 | d);
}

void lb_fixture_build(struct lb_fixture *f, unsigned n, unsigned backends)
{
	memset(f, 0, sizeof(*f));
	for (unsigned s = 1; s <= n; s++) {
		struct kilo_lb_desired_service *svc = &f->services[s - 1];
		struct kilo_lb_desired_maglev *g = &f->maglev[s - 1];

		svc->key = (struct kilo_lb_service_key){ .addr.v4 = ipv4(10, 96, 0, s), .port = htons(80),
							 .proto = IPPROTO_TCP, .family = AF_INET };
		svc->value = (struct kilo_lb_service){ .id = s, .backend_count = (__u16)backends,
						       .flags = KILO_LB_SERVICE_MAGLEV };
		f->revnat[s - 1] = (struct kilo_lb_desired_revnat){
			.service_id = s, .value = { .addr = svc->key.addr, .port = svc->key.port, .family = AF_INET } };
		for (unsigned b = 1; b <= backends; b++) {
			struct kilo_lb_desired_backend *be = &f->backends[f->desired.n_backends++];

			be->id = s * 10 + b;
			be->value = (struct kilo_lb_backend){ .addr.v4 = ipv4(10, 2, s, b), .port = htons(8080),
							      .proto = IPPROTO_TCP, .family = AF_INET };
			f->slots[f->desired.n_slots++] = (struct kilo_lb_desired_slot){
				.key = { .service_id = s, .slot = b }, .backend_id = be->id };
		}
		*g = (struct kilo_lb_desired_maglev){ .service_id = s, .m = KILO_LB_MAGLEV_DEFAULT, .table = f->tables[s - 1] };
		for (unsigned k = 0; k < KILO_LB_MAGLEV_DEFAULT; k++)
			f->tables[s - 1][k] = backends ? s * 10 + 1 + k % backends : 0;
	}
	f->desired.n_services = f->desired.n_revnat = f->desired.n_maglev = n;
	f->desired.services = f->services;
	f->desired.backends = f->backends;
	f->desired.slots = f->slots;
	f->desired.revnat = f->revnat;
	f->desired.maglev = f->maglev;
	lb_fixture_sort(f);
}

static int by_first_4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int by_first_8(const void *a, const void *b)
{
	return memcmp(a, b, 8);
}

static int by_service_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct kilo_lb_service_key));
}

void lb_fixture_sort(struct lb_fixture *f)
{
	struct kilo_lb_desired *d = &f->desired;

	qsort(d->services, d->n_services, sizeof(*d->services), by_service_key);
	qsort(d->backends, d->n_backends, sizeof(*d->backends), by_first_4);
	qsort(d->slots, d->n_slots, sizeof(*d->slots), by_first_8);
	qsort(d->revnat, d->n_revnat, sizeof(*d->revnat), by_first_4);
	qsort(d->maglev, d->n_maglev, sizeof(*d->maglev), by_first_4);
}

static char pin_dir[PATH_MAX];

static void remove_pin_dir(void)
{
	char command[PATH_MAX + 16];

	if (!pin_dir[0])
		return;
	snprintf(command, sizeof(command), "rm -rf '%s'", pin_dir);
	if (system(command) != 0)
		fprintf(stderr, "could not remove %s\n", pin_dir);
}

/* Pin dirs of runs that were killed before their atexit (kilo-loader-NAME-PID, PID gone) go first. */
static void remove_stale_pin_dirs(void)
{
	char command[PATH_MAX + 64];
	struct dirent *e;
	DIR *dir = opendir("/sys/fs/bpf");

	while (dir && (e = readdir(dir))) {
		const char *dash = strrchr(e->d_name, '-');
		long pid = dash ? strtol(dash + 1, NULL, 10) : 0;

		/* Only a process that no longer exists (ESRCH) left its dir behind. */
		if (strncmp(e->d_name, "kilo-loader-", 12) != 0 || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(command, sizeof(command), "rm -rf '/sys/fs/bpf/%s'", e->d_name);
		if (system(command) != 0)
			fprintf(stderr, "could not remove /sys/fs/bpf/%s\n", e->d_name);
	}
	if (dir)
		closedir(dir);
}

const char *lb_fixture_pin_dir(const char *name)
{
	struct statfs st;

	if (geteuid() != 0) {
		fprintf(stderr, "BPF needs root: skipped\n");
		return NULL;
	}
	if ((statfs("/sys/fs/bpf", &st) < 0 || st.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0) {
		fprintf(stderr, "no bpffs at /sys/fs/bpf (%s): skipped\n", strerror(errno));
		return NULL;
	}
	remove_stale_pin_dirs();
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/kilo-loader-%s-%d", name, (int)getpid());
	atexit(remove_pin_dir);
	return pin_dir;
}

int lb_fixture_map(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

size_t lb_fixture_count(const char *dir, const char *name, size_t key_size)
{
	unsigned char key[64], next[64];
	int fd = lb_fixture_map(dir, name);
	size_t n = 0;

	if (fd < 0 || key_size > sizeof(key))
		return SIZE_MAX;
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, next) == 0; prev = key, n++)
		memcpy(key, next, key_size);
	close(fd);
	return n;
}
