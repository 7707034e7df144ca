#ifdef CONFIG_SMP
BEGIN { exit(); }
#endif
