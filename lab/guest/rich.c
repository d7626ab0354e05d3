/*
 * nitro-rich: the calls of an ordinary program, in a fixed order, for the
 * tests to hold nitro's text of them against the guest's own strace -f.
 * Unlike the lab's other programs it links glibc (statically, with
 * pthreads), so its calls are also those glibc makes for it: its start-up,
 * pthread_create's clone3, fork's clone, accept, send's sendto...
 *
 *   a thread that writes to a pipe, joined      (mmap, mprotect, clone3, futex)
 *   fork: the child writes to the pipe, wait4   (clone, exit_group, wait4)
 *   SIGUSR1 sent to itself and caught           (rt_sigaction, kill, rt_sigreturn)
 *   a unix socketpair, data each way            (socketpair, sendto, recvfrom)
 *   TCP on loopback                             (socket, setsockopt, bind, listen, connect,
 *                                                accept, getsockname, fcntl, shutdown)
 *   anonymous memory                            (mmap, mprotect, madvise, munmap)
 *   getrandom, a sleep, a directory read        (getrandom, clock_nanosleep, openat,
 *                                                newfstatat, getdents64)
 *   failures                                    (ENOENT, ENOTDIR, EBADF, EINVAL, EFAULT,
 *                                                EAGAIN, ECHILD, ESRCH)
 *   fork and exec of itself with a known argv   (execve; the image writes one line)
 *
 * Its output goes to stdout, which the lab sends to /dev/null: the tests
 * read what it did from strace's account. It exits 0 when every call did
 * what it should, else 1, so a change of the guest cannot pass unnoticed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT 7707 /* fixed, so the port reads the same in every run */

static int pipefd[2];
static int failed;

/* expect notes a call whose result differs from what it should be. */
static void expect(int ok)
{
	if (!ok)
		failed = 1;
}

/* fails checks that a call failed with errno want. */
static void fails(long r, int want)
{
	expect(r == -1 && errno == want);
}

static void *worker(void *arg)
{
	expect(write(pipefd[1], "thread", 6) == 6);
	return arg;
}

static volatile sig_atomic_t caught;

static void on_usr1(int sig)
{
	caught = sig;
}

/* readn reads what the pipe holds and checks it is want. */
static void readn(int fd, const char *want)
{
	char buf[64];
	size_t n = strlen(want);
	expect(read(fd, buf, sizeof buf) == (ssize_t)n && memcmp(buf, want, n) == 0);
}

static void threads_and_fork(void)
{
	pthread_t t;
	int status;
	pid_t child;

	expect(pipe2(pipefd, O_CLOEXEC) == 0);
	expect(pthread_create(&t, NULL, worker, NULL) == 0);
	expect(pthread_join(t, NULL) == 0);
	readn(pipefd[0], "thread");
	child = fork();
	if (child == 0) {
		expect(write(pipefd[1], "child", 5) == 5);
		_exit(failed);
	}
	expect(child > 0);
	readn(pipefd[0], "child");
	expect(waitpid(child, &status, 0) == child && status == 0);
}

static void signals(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};

	sigemptyset(&sa.sa_mask);
	expect(sigaction(SIGUSR1, &sa, NULL) == 0);
	expect(kill(getpid(), SIGUSR1) == 0);
	expect(caught == SIGUSR1);
}

static void sockets(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	socklen_t len = sizeof addr;
	int sv[2], one = 1, srv, cli, conn;
	char buf[16];

	expect(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	expect(send(sv[0], "pair", 4, 0) == 4);
	expect(recv(sv[1], buf, sizeof buf, 0) == 4);
	expect(send(sv[1], "back", 4, 0) == 4);
	expect(recv(sv[0], buf, sizeof buf, 0) == 4);
	close(sv[0]);
	close(sv[1]);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv = socket(AF_INET, SOCK_STREAM, 0);
	expect(setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	expect(bind(srv, (struct sockaddr *)&addr, sizeof addr) == 0);
	expect(listen(srv, 1) == 0);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	expect(connect(cli, (struct sockaddr *)&addr, sizeof addr) == 0);
	conn = accept(srv, (struct sockaddr *)&addr, &len);
	expect(conn >= 0);
	expect(getsockname(conn, (struct sockaddr *)&addr, &len) == 0);
	expect(fcntl(conn, F_GETFL) == O_RDWR);
	expect(send(cli, "tcp", 3, 0) == 3);
	expect(recv(conn, buf, sizeof buf, 0) == 3);
	expect(shutdown(cli, SHUT_WR) == 0);
	expect(recv(conn, buf, sizeof buf, 0) == 0);
	close(conn);
	close(cli);
	close(srv);
}

static void memory(void)
{
	long page = 4096;
	char *p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	expect(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	p[0] = 1;
	expect(mprotect(p + page, page, PROT_NONE) == 0);
	expect(madvise(p, page, MADV_DONTNEED) == 0);
	expect(p[0] == 0);
	expect(munmap(p, 3 * page) == 0);
}

static void files(void)
{
	struct timespec nap = {.tv_nsec = 1000000};
	char buf[4096];
	struct stat st;
	int fd;

	/* GRND_INSECURE: the guest has no entropy source, and the other flags
	 * fail or block until its pool is ready. */
	expect(getrandom(buf, 8, GRND_INSECURE) == 8);
	expect(clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL) == 0);
	fd = open("/etc/nitro", O_RDONLY | O_DIRECTORY);
	expect(fd >= 0);
	expect(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
	expect(syscall(SYS_getdents64, fd, buf, sizeof buf) > 0);
	expect(syscall(SYS_getdents64, fd, buf, sizeof buf) == 0);
	close(fd);
}

static void failures(void)
{
	int empty[2];
	char buf[8];

	fails(open("/nonexistent/nitro-rich", O_RDONLY), ENOENT);
	fails(open("/etc/nitro/probe-input/x", O_RDONLY), ENOTDIR);
	fails(read(99, buf, sizeof buf), EBADF);
	fails(lseek(0, 0, 99), EINVAL);
	expect(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED && errno == EINVAL);
	/* syscall(): glibc's write is declared to read its buffer, and gcc checks. */
	fails(syscall(SYS_write, pipefd[1], 1L, 4L), EFAULT);
	expect(pipe2(empty, O_NONBLOCK) == 0);
	fails(read(empty[0], buf, sizeof buf), EAGAIN);
	close(empty[0]);
	close(empty[1]);
	fails(waitpid(-1, NULL, WNOHANG), ECHILD);
	fails(kill(0x7fffffff, 0), ESRCH);
}

static void exec_self(void)
{
	char *argv[] = {"nitro-rich", "exec", "known argv", NULL};
	char *envp[] = {"NITRO=rich", NULL};
	int status;
	pid_t child = fork();

	if (child == 0) {
		execve("/bin/nitro-rich", argv, envp);
		_exit(1);
	}
	expect(child > 0 && waitpid(child, &status, 0) == child && status == 0);
}

int main(int argc, char **argv)
{
	static const char line[] = "nitro-rich: exec known argv\n";

	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return strcmp(argv[2], "known argv") != 0 || write(1, line, sizeof line - 1) != sizeof line - 1;
	threads_and_fork();
	signals();
	sockets();
	memory();
	files();
	failures();
	exec_self();
	return failed;
}
