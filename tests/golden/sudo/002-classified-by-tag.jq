if has("@timestamp") then ."@timestamp" |= sub("^[0-9]{4}"; "YYYY") else . end
