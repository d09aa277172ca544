package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pgServer is the PostgreSQL server the scale-out scenario measures against: one the bench
// started itself in a temporary directory (as .ci/run does), or one given by -pg-url.
type pgServer struct {
	admin string // URL of the maintenance database (postgres), for CREATE DATABASE and statistics
	psql  string // the psql executable
	// Set only for a server the bench started.
	bin      string // /usr/lib/postgresql/N/bin
	dir      string // temporary directory: data/, log, socket
	asPG     bool   // commands run as the postgres user (the bench runs as root)
	keep     bool
	progress func(format string, args ...any)
}

// pgBinDir returns the newest /usr/lib/postgresql/N/bin that holds initdb.
func pgBinDir() (string, error) {
	dirs, err := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if err != nil || len(dirs) == 0 {
		return "", fmt.Errorf("no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb; apt-get install -y postgresql), or pass -pg-url")
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return newestPgBin(dirs), nil
}

// newestPgBin returns the directory of dirs (/usr/lib/postgresql/N/bin) with the highest version
// N, compared as numbers (16 is newer than 9.6); dirs must not be empty.
func newestPgBin(dirs []string) string {
	version := func(d string) []int {
		var v []int
		for _, f := range strings.Split(filepath.Base(filepath.Dir(d)), ".") {
			n, err := strconv.Atoi(f)
			if err != nil {
				n = -1
			}
			v = append(v, n)
		}
		return v
	}
	best := dirs[0]
	for _, d := range dirs[1:] {
		a, b := version(d), version(best)
		for i := 0; i < max(len(a), len(b)); i++ {
			x, y := -1, -1
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				if x > y {
					best = d
				}
				break
			}
		}
	}
	return best
}

// startPostgres initialises a cluster in a new temporary directory and starts it on a free port
// of 127.0.0.1: trust authentication for the user postgres, fsync off (the data dies with the
// bench), max_connections 300 (a server and four workers with their pools). As root, the server
// runs as the postgres user, which owns the directory.
func startPostgres(ctx context.Context, keep bool, progress func(string, ...any)) (*pgServer, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trawl-bench-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres directory: %w", err)
	}
	s := &pgServer{bin: bin, dir: dir, psql: filepath.Join(bin, "psql"), keep: keep, progress: progress}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root: PostgreSQL must run as the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres directory: %w", err)
		}
		s.asPG = true
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := s.command(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// pg_stat_statements says where the server spent its time (pgServer.topStatements).
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_preload_libraries=pg_stat_statements", port, dir)
	if err := s.command(ctx, filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; server log: %s", err, tail(filepath.Join(dir, "log"), 600))
	}
	s.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if _, err := s.query(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		progress("no pg_stat_statements, the statements are not reported: %v\n", err)
	}
	progress("PostgreSQL %s on 127.0.0.1:%d in %s\n", filepath.Base(filepath.Dir(bin)), port, dir)
	return s, nil
}

// externalPostgres uses the server of url (any database of it; the bench creates its own).
func externalPostgres(rawURL string) (*pgServer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("-pg-url %q: want a postgres:// URL", rawURL)
	}
	u.Path = "/postgres"
	psql, err := exec.LookPath("psql")
	if err != nil {
		if bin, berr := pgBinDir(); berr == nil {
			psql, err = filepath.Join(bin, "psql"), nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("-pg-url needs psql (apt-get install -y postgresql-client): %w", err)
	}
	return &pgServer{admin: u.String(), psql: psql}, nil
}

// own reports whether the bench started the server (and so can measure its CPU).
func (s *pgServer) own() bool { return s.dir != "" }

// command runs argv, as the postgres user when the bench runs as root.
func (s *pgServer) command(ctx context.Context, argv ...string) error {
	var cmd *exec.Cmd
	if s.asPG {
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = shellQuote(a)
		}
		cmd = exec.CommandContext(ctx, "su", "postgres", "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
	} else {
		cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	}
	cmd.Dir = os.TempDir() // a directory the postgres user may enter
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(argv[0]), err, strings.Join(strings.Fields(string(b)), " "))
	}
	return nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// stop stops the server the bench started and removes its directory (unless -keep); a server
// given by -pg-url is left alone.
func (s *pgServer) stop() {
	if !s.own() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.command(ctx, filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop"); err != nil {
		s.progress("stop PostgreSQL: %v\n", err)
	}
	if s.keep {
		s.progress("PostgreSQL directory kept: %s\n", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

// fieldSep separates the columns of query's output: a byte no SQL text holds.
const fieldSep = "\x1f"

// query runs sql on the maintenance database and returns its unaligned, tuples-only output,
// columns separated by fieldSep.
func (s *pgServer) query(ctx context.Context, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, s.psql, "-X", "-q", "-At", "-F", fieldSep, "-v", "ON_ERROR_STOP=1", "-d", s.admin, "-c", sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", sql, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// createDB creates the empty database name and returns its URL.
func (s *pgServer) createDB(ctx context.Context, name string) (string, error) {
	if _, err := s.query(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(s.admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropDB drops the database name, closing its connections.
func (s *pgServer) dropDB(ctx context.Context, name string) error {
	_, err := s.query(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// dbCounters are cumulative counters of one database from pg_stat_database.
type dbCounters struct {
	Commits   int64 // xact_commit
	Deadlocks int64
}

// counters returns the counters of database name so far. A backend reports its counts when it
// goes idle (at most once a second) and when it exits: read them after the clients of the
// database have exited.
func (s *pgServer) counters(ctx context.Context, name string) (dbCounters, error) {
	out, err := s.query(ctx, "SELECT xact_commit, deadlocks FROM pg_stat_database WHERE datname = '"+name+"'")
	if err != nil {
		return dbCounters{}, err
	}
	return parseCounters(out)
}

// parseCounters parses counters' psql output: xact_commit and deadlocks.
func parseCounters(out string) (dbCounters, error) {
	f := strings.Split(out, fieldSep)
	if len(f) != 2 {
		return dbCounters{}, fmt.Errorf("pg_stat_database: %q: want xact_commit and deadlocks", out)
	}
	var c dbCounters
	var err1, err2 error
	c.Commits, err1 = strconv.ParseInt(f[0], 10, 64)
	c.Deadlocks, err2 = strconv.ParseInt(f[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return dbCounters{}, fmt.Errorf("pg_stat_database: %q: %w", out, err)
	}
	return c, nil
}

// cpu returns the CPU time the server's processes have used so far: the postmaster's own and
// that of its exited children (backends, once reaped, add to its cutime and cstime), plus the
// live children's. Only for a server the bench started.
func (s *pgServer) cpu() (time.Duration, error) {
	if !s.own() {
		return 0, errors.New("not the bench's server")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("postmaster.pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return 0, fmt.Errorf("postmaster.pid: %w", err)
	}
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	ticks := st.utime + st.stime + st.cutime + st.cstime
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		if c, err := parseProcStat(b); err == nil && c.ppid == pid {
			ticks += c.utime + c.stime
		}
	}
	return ticksToDuration(ticks), nil
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

func ticksToDuration(t int64) time.Duration { return time.Duration(t) * time.Second / clockTicks }

// procStat is the part of /proc/PID/stat the bench reads, times in clock ticks.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

// parseProcStat parses a /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses, so fields are counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc stat %.80q", s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("malformed /proc stat %.80q: %d fields", s, len(f)+2)
	}
	var st procStat
	var err error
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return st, fmt.Errorf("/proc stat ppid: %w", err)
	}
	for j, p := range []*int64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		if *p, err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return st, fmt.Errorf("/proc stat field %d: %w", 14+j, err)
		}
	}
	return st, nil
}

// pgStatement is one statement's share of the server's time in one database.
type pgStatement struct {
	Calls   int64   `json:"calls"`
	TotalMS float64 `json:"total_ms"`
	Rows    int64   `json:"rows"`
	Query   string  `json:"query"` // normalised by pg_stat_statements, whitespace collapsed, cut at 160 characters
}

// topStatements returns the n statements of database name that took the most execution time,
// from pg_stat_statements, or nil when the extension is missing.
func (s *pgServer) topStatements(ctx context.Context, name string, n int) []pgStatement {
	out, err := s.query(ctx, fmt.Sprintf(`SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '%s')
ORDER BY total_exec_time DESC LIMIT %d`, name, n))
	if err != nil {
		return nil
	}
	return parseStatements(out)
}

// parseStatements parses topStatements' psql output: calls, total time, rows and query per line.
func parseStatements(out string) []pgStatement {
	var sts []pgStatement
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.SplitN(line, fieldSep, 4)
		if len(f) != 4 {
			continue
		}
		var st pgStatement
		var err1, err2, err3 error
		st.Calls, err1 = strconv.ParseInt(f[0], 10, 64)
		st.TotalMS, err2 = strconv.ParseFloat(f[1], 64)
		st.Rows, err3 = strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		st.Query = f[3]
		sts = append(sts, st)
	}
	return sts
}
