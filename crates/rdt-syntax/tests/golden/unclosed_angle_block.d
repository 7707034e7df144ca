kprobe:do_sys_open < @[comm] = count(); 
