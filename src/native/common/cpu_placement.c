#include "cpu_placement.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Taken at the first cb_reserve_cpu, before it pins its caller: a thread created after that
 * inherits the pin, and this is where it belongs instead. The generator thread reads it.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cpu_set_t started_with;
static int reserved = -1;

static int is_own_thread(long tid)
{
	char path[64], name[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	fclose(f);
	return strncmp(name, "cb-", 3) == 0;
}

/* Every thread but the caller and capbench's own gets `to`. */
static int move_other_threads(const cpu_set_t *to, int cpu, struct cb_error *e)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	struct dirent *ent;
	DIR *dir = opendir("/proc/self/task");

	if (!dir)
		return cb_fail(e, errno, "reserve CPU %d: list threads (/proc/self/task)", cpu);
	for (errno = 0; (ent = readdir(dir)) != NULL; errno = 0) {
		char *end;
		long tid = strtol(ent->d_name, &end, 10);

		if (*end != '\0' || tid <= 0 || (pid_t)tid == self || is_own_thread(tid))
			continue;
		/* ESRCH: the thread ended meanwhile. */
		if (sched_setaffinity((pid_t)tid, sizeof(*to), to) != 0 && errno != ESRCH) {
			cb_fail(e, errno, "reserve CPU %d: move thread %ld off it", cpu, tid);
			closedir(dir);
			return -1;
		}
	}
	int err = errno; /* readdir's, or 0 at the end of the list */

	closedir(dir);
	if (err != 0)
		return cb_fail(e, err, "reserve CPU %d: list threads (readdir)", cpu);
	return 0;
}

int cb_reserve_cpu(int cpu, struct cb_error *e)
{
	cpu_set_t pin, others;
	int rc;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return cb_fail(e, EINVAL, "reserve CPU %d (allowed 0..%d)", cpu, CPU_SETSIZE - 1);
	pthread_mutex_lock(&lock);
	if (reserved < 0 && sched_getaffinity(0, sizeof(started_with), &started_with) != 0) {
		pthread_mutex_unlock(&lock);
		return cb_fail(e, errno, "reserve CPU %d: read this thread's affinity", cpu);
	}
	/* The pin first: a CPU this process may not use fails here, before anything has moved. */
	CPU_ZERO(&pin);
	CPU_SET(cpu, &pin);
	/* pthread_* return the error instead of setting errno. */
	rc = pthread_setaffinity_np(pthread_self(), sizeof(pin), &pin);
	if (rc != 0) {
		pthread_mutex_unlock(&lock);
		return cb_fail(e, rc, "pin thread to CPU %d (pthread_setaffinity_np)", cpu);
	}
	reserved = cpu;
	others = started_with;
	pthread_mutex_unlock(&lock);

	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) == 0)
		return 0; /* nowhere else to go */
	return move_other_threads(&others, cpu, e);
}

int cb_pin_thread(int cpu, struct cb_error *e)
{
	cpu_set_t pin;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return cb_fail(e, EINVAL, "pin thread to CPU %d (allowed 0..%d)", cpu,
			       CPU_SETSIZE - 1);
	CPU_ZERO(&pin);
	CPU_SET(cpu, &pin);
	/* pid 0 is the calling thread, not the whole process. */
	if (sched_setaffinity(0, sizeof(pin), &pin) != 0)
		return cb_fail(e, errno, "pin thread to CPU %d (sched_setaffinity)", cpu);
	/* The main thread's name is the process's (ps, top): it is left alone. */
	if ((pid_t)syscall(SYS_gettid) != getpid() &&
	    prctl(PR_SET_NAME, (unsigned long)"cb-pinned", 0, 0, 0) != 0)
		return cb_fail(e, errno, "pin thread to CPU %d: name it cb-pinned (PR_SET_NAME)",
			       cpu);
	return 0;
}

int cb_unreserved_cpus(cpu_set_t *set, struct cb_error *e)
{
	pthread_mutex_lock(&lock);
	if (reserved >= 0) {
		*set = started_with;
		if (CPU_COUNT(set) > 1)
			CPU_CLR(reserved, set);
		pthread_mutex_unlock(&lock);
		return 0;
	}
	pthread_mutex_unlock(&lock);
	if (sched_getaffinity(0, sizeof(*set), set) != 0)
		return cb_fail(e, errno, "read this thread's CPU affinity (sched_getaffinity)");
	return 0;
}
