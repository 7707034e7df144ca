BEGIN { exit(); }
#endif
