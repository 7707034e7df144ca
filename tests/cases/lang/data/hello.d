#!/usr/bin/env rdt
/* Used by cli_dash_s_script_file.case */
BEGIN { printf("hello %s\n", $1); exit(); }
