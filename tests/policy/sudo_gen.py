#!/usr/bin/env python3
"""sudo_gen.py - generator for the sudo differential test.

usage: sudo_gen.py SEED OUTDIR  -> OUTDIR/sudoers, passwd, group, cases

A random but valid sudoers (user/host/runas/command lists with %group, ALL,
negation, aliases, globs, directory specs, "" and regex arguments, /bin vs
/usr/bin paths) and sudo -l cases (sudo_oracle.sh format).  Commands are
real binaries of this machine, because the real sudo compares files.
Deliberately NOT generated (documented limits of the sudo -l oracle, see
reference/policy.md section 6.1): sudoedit rules and cases (sudo -l cannot
test them), run-as-self specs "()" / "(:group)" (sudo -l -U compares them
with root, not with the -U user), -g cases, and IP/network host entries
(only the oracle machine's interfaces match).
"""
import os
import random
import sys

seed, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(seed)
os.makedirs(out, exist_ok=True)

USERS = ["u1", "u2", "u3", "u4", "u5", "u6"]
GROUPS = {"grpa": ["u1", "u2"], "grpb": ["u3"], "grpc": []}  # grpc: u4's primary group
HOSTS_CASE = ["h1.example.com", "h2.example.com", "web1", "db1", "other.example.org"]
HOST_PATS = ["ALL", "h1.example.com", "*.example.com", "web*", "db1", "WEB1", "h?.example.com"]
RUNAS = ["root", "svc", "u5", "ALL", "%grpa"]
BINS = ["id", "cat", "tail", "head", "ls", "date", "env", "true", "whoami", "uptime", "bash", "sh"]
ARGS_PATS = [None, '""', "*", "-f *", "-n 5 /var/log/*", "/etc/passwd", "^-[a-z]$", "-u", "x*y"]
CASE_ARGS = ["", "-f /var/log/syslog", "/etc/passwd", "-u", "-n 5 /var/log/syslog",
             "-n 5 /var/log/../../etc/shadow", "x1y", "-a", "a b"]


def cmd_pat():
    k = r.random()
    if k < 0.1:
        return "ALL"
    if k < 0.17:
        return r.choice(["/usr/bin/ta*", "/usr/bin/[ch]*", "/usr/bin/*"])
    if k < 0.22:
        return "/usr/bin/"
    b = r.choice(BINS)
    path = ("/bin/" if r.random() < 0.25 else "/usr/bin/") + b
    a = r.choice(ARGS_PATS)
    return path + ("" if a is None else " " + a)


def neg(x, p=0.2):
    return ("!" + x) if r.random() < p else x


lines = ["Defaults env_reset",
         'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
         "Defaults !fqdn", ""]
lines.append("User_Alias UA = u1, %grpb")
lines.append("Host_Alias HA = h2.example.com, db1")
lines.append("Runas_Alias RA = svc, u5")
lines.append("Cmnd_Alias CA = /usr/bin/id, /usr/bin/date *, !/usr/bin/date -u")
lines.append("")
for i in range(r.randint(6, 14)):
    users = []
    for _ in range(r.randint(1, 3)):
        users.append(neg(r.choice(USERS + ["%grpa", "%grpb", "%grpc", "UA", "#2003", "%#3002"]), 0.15))
    if all(u.startswith("!") for u in users):
        users.append("ALL")
    if r.random() < 0.15:
        users = ["ALL"] + ["!" + r.choice(USERS)]
    hosts = [neg(r.choice(HOST_PATS + ["HA"]), 0.15) for _ in range(r.randint(1, 2))]
    if all(h.startswith("!") for h in hosts):
        hosts.insert(0, "ALL")
    cmds = []
    for _ in range(r.randint(1, 4)):
        c = r.choice(["CA", "!CA"]) if r.random() < 0.1 else neg(cmd_pat(), 0.25)
        if r.random() < 0.15:
            c = "NOPASSWD: " + c
        if r.random() < 0.4:
            ru = ",".join(neg(r.choice(RUNAS + ["RA"]), 0.1) for _ in range(r.randint(1, 2)))
            if ru.startswith("!") and "," not in ru:
                ru = "ALL," + ru
            if r.random() < 0.2:
                ru += ":ALL"
            c = "(%s) %s" % (ru, c)
        cmds.append(c)
    lines.append("%s %s = %s" % (", ".join(users), ", ".join(hosts), ", ".join(cmds)))
open(os.path.join(out, "sudoers"), "w").write("\n".join(lines) + "\n")

with open(os.path.join(out, "passwd"), "w") as f:
    for n, u in enumerate(USERS):
        gid = 3003 if u == "u4" else 2001 + n
        f.write("%s:x:%d:%d::/home/%s:/bin/bash\n" % (u, 2001 + n, gid, u))
    f.write("svc:x:2100:2100::/srv:/usr/sbin/nologin\n")
with open(os.path.join(out, "group"), "w") as f:
    for n, (g, mem) in enumerate(sorted(GROUPS.items())):
        f.write("%s:x:%d:%s\n" % (g, 3001 + n, ",".join(mem)))

with open(os.path.join(out, "cases"), "w") as f:
    for _ in range(60):
        u = r.choice(USERS)
        h = r.choice(HOSTS_CASE)
        ru = r.choice(["", "", "-u root ", "-u svc ", "-u u5 ", "-u u1 "])
        b = r.choice(BINS)
        p = r.choice(["/usr/bin/", "/usr/bin/", "/bin/", ""]) + b
        a = r.choice(CASE_ARGS)
        f.write(("-U %s -h %s %s%s %s" % (u, h, ru, p, a)).rstrip() + "\n")
