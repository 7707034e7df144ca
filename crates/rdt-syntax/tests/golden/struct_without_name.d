BEGIN { @x = (struct)curtask; }
