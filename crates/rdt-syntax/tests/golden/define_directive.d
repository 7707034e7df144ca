#define LIMIT 10
BEGIN { exit(); }
