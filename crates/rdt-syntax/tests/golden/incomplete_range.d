BEGIN { for ($i : 0..) { } }
