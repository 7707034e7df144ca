/*
 * Task states (`task_struct.__state`, sched_switch's `prev_state`) and scheduling policies.
 * Compiled into rdt; any script can use these names.
 * Syntax: `inline int NAME = VALUE;` (D's inline constants), one per line.
 */

inline int TASK_RUNNING = 0;
inline int TASK_INTERRUPTIBLE = 1;
inline int TASK_UNINTERRUPTIBLE = 2;
inline int __TASK_STOPPED = 4;
inline int __TASK_TRACED = 8;
inline int EXIT_DEAD = 0x10;
inline int EXIT_ZOMBIE = 0x20;
inline int TASK_PARKED = 0x40;
inline int TASK_DEAD = 0x80;
inline int TASK_WAKEKILL = 0x100;
inline int TASK_WAKING = 0x200;
inline int TASK_NOLOAD = 0x400;
inline int TASK_NEW = 0x800;
inline int TASK_KILLABLE = 0x102;
inline int TASK_STOPPED = 0x104;
inline int TASK_TRACED = 8;
inline int TASK_IDLE = 0x402;
inline int SCHED_NORMAL = 0;
inline int SCHED_OTHER = 0;
inline int SCHED_FIFO = 1;
inline int SCHED_RR = 2;
inline int SCHED_BATCH = 3;
inline int SCHED_IDLE = 5;
inline int SCHED_DEADLINE = 6;
