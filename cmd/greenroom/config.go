package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/greenroomhq/greenroom/internal/catalog"
	"github.com/greenroomhq/greenroom/internal/changefeed"
	"github.com/greenroomhq/greenroom/internal/ingest"
	"github.com/greenroomhq/greenroom/internal/jobs"
	"github.com/greenroomhq/greenroom/internal/scaffolder"
	"github.com/greenroomhq/greenroom/internal/settings"
)

// Config is everything `greenroom serve` can be told. It is read from
// greenroom.yaml, then GREENROOM_* environment variables, then flags, each
// overriding the one before.
type Config struct {
	// Listen is the address of the HTTP server.
	Listen string `yaml:"listen"`
	// Database is a path or sqlite: URL for SQLite, or a postgres:// URL.
	Database string `yaml:"database"`
	// Locations are registered at start: paths or globs of descriptor files,
	// http(s) URLs, or either prefixed with "file:" or "url:".
	Locations []string `yaml:"locations"`
	Catalog   struct {
		// RefreshInterval is the time between two reads of every location.
		RefreshInterval settings.Duration `yaml:"refreshInterval"`
		// WatchFiles refreshes a file location as soon as one of its files
		// changes (internal/watch), besides every interval.
		WatchFiles bool `yaml:"watchFiles"`
		// Orphans is "keep" (mark them with backstage.io/orphan) or "delete".
		Orphans string `yaml:"orphans"`
		// MaxFileSize bounds each descriptor file or URL body, in bytes.
		MaxFileSize int64 `yaml:"maxFileSize"`
		// MaxEntitySize bounds one entity once its YAML aliases are expanded
		// and its placeholders substituted, in bytes.
		MaxEntitySize int64 `yaml:"maxEntitySize"`
		// MaxLocationSize bounds the entities of one location together, in
		// bytes: a location over it stores nothing and shows why.
		MaxLocationSize int64 `yaml:"maxLocationSize"`
		// RegisterTypes are the location types the registerLocation mutation
		// accepts. Like Backstage, only url by default: a file location reads
		// the server's own disk.
		RegisterTypes []string `yaml:"registerTypes"`
		// Rules are Backstage's catalog.rules: which kinds may come from
		// which files and URLs. Unset, configured locations may emit every
		// kind and registered ones only software kinds (see ingest.Rules).
		// Relative file targets and patterns are relative to this file.
		Rules []ingest.Rule `yaml:"rules"`
		// FileRoots, when set, are the only directories descriptor files and
		// placeholders may be read from, symbolic links followed.
		FileRoots []string `yaml:"fileRoots"`
		// AllowedHosts, when set, are the host patterns URLs may be fetched
		// from ("git.example.com", "*.example.com"), redirects included.
		AllowedHosts []string `yaml:"allowedHosts"`
		// URLAuth are credentials for the hosts URL locations are read from,
		// since a location's URL may not carry them.
		URLAuth []URLAuth `yaml:"urlAuth"`
	} `yaml:"catalog"`
	Log struct {
		Level  string `yaml:"level"`  // debug, info, warn or error
		Format string `yaml:"format"` // auto, text or json
	} `yaml:"log"`
	// Auth says how callers prove who they are: the keys plugins share
	// (settings.Auth), and how a token names its user.
	Auth struct {
		settings.Auth `yaml:",inline"`
		// Subject is "sub" when the sub claim is a User entity ref (or
		// service:NAME), or "email" to find the User whose
		// spec.profile.email is the token's email claim.
		Subject string `yaml:"subject"`
		// AllowUnknownUsers accepts tokens for users not in the catalog.
		AllowUnknownUsers bool `yaml:"allowUnknownUsers"`
	} `yaml:"auth"`
	// Policy is the permission policy file, reloaded when it changes. With
	// none, every caller may do everything: development only.
	Policy string `yaml:"policy"`
	// Production refuses to start without authentication and a policy.
	Production bool `yaml:"production"`
	// API bounds what one request may ask (settings.API, which plugins
	// share); zero values take the defaults.
	API struct {
		settings.API `yaml:",inline"`
		// ReadHeaderTimeout and IdleTimeout are the HTTP server's, for
		// every connection.
		ReadHeaderTimeout settings.Duration `yaml:"readHeaderTimeout"`
		IdleTimeout       settings.Duration `yaml:"idleTimeout"`
	} `yaml:"api"`

	// Jobs bounds the background jobs (refreshes, for now).
	Jobs struct {
		// Timeout is the longest a job runs before it is cancelled and
		// its attempt fails.
		Timeout settings.Duration `yaml:"timeout"`
		// RescueAfter is how long a job may stay running before it is
		// taken for lost (its process died) and retried; longer than
		// Timeout.
		RescueAfter settings.Duration `yaml:"rescueAfter"`
		// DeadAfter is how long a process that runs jobs may make no
		// heartbeat (it makes one a second) before another takes it for
		// dead and retries the jobs it was running; at least 2s.
		DeadAfter settings.Duration `yaml:"deadAfter"`
	} `yaml:"jobs"`

	// Metrics says where the Prometheus metrics are served.
	Metrics struct {
		// Listen is "" to serve /metrics on the API's listener, "off" to
		// serve none, or a host:port to serve /metrics there alone.
		Listen string `yaml:"listen"`
		// MaxOperationNames bounds the distinct GraphQL operation names
		// kept as labels; the rest count as "(other)".
		MaxOperationNames int `yaml:"maxOperationNames"`
	} `yaml:"metrics"`
	// Tracing says where OpenTelemetry traces go; none by default.
	Tracing struct {
		// OTLPEndpoint is the base URL of an OTLP/HTTP collector
		// ("http://collector:4318"); spans go to its /v1/traces.
		OTLPEndpoint string `yaml:"otlpEndpoint"`
		// tracesURL is the full URL of the traces endpoint, when
		// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT gives it.
		tracesURL string
	} `yaml:"tracing"`
	// ChangeFeed configures the change feed that every write appends to.
	ChangeFeed struct {
		// Retention is how long its events are kept; a consumer that
		// falls further behind must resync.
		Retention settings.Duration `yaml:"retention"`
	} `yaml:"changefeed"`
	// Hooks configures the forges' push webhooks (internal/hooks), served
	// at /hooks/refresh/{provider} for each provider with a secret.
	Hooks struct {
		// Secrets are each provider's webhook secret (GitLab's token).
		Secrets struct {
			GitHub    string `yaml:"github"`
			GitLab    string `yaml:"gitlab"`
			Gitea     string `yaml:"gitea"`
			Bitbucket string `yaml:"bitbucket"`
		} `yaml:"secrets"`
	} `yaml:"hooks"`
	// Scaffolder configures software templates' tasks.
	Scaffolder struct {
		// WorkingDirectory is where tasks make their workspaces; the
		// system's temporary directory when empty.
		WorkingDirectory string `yaml:"workingDirectory"`
		// StepTimeout bounds each step of a task.
		StepTimeout settings.Duration `yaml:"stepTimeout"`
	} `yaml:"scaffolder"`
	// TechDocs configures docs builds.
	TechDocs struct {
		// PublishDirectory, when set, also receives each good build as
		// files, at {namespace}/{kind}/{name}/ under it: Backstage's local
		// publisher's layout. Pages are served from the database either way.
		PublishDirectory string `yaml:"publishDirectory"`
		// CheckInterval is how often a refresh of a location looks again
		// at the docs of its entities that it did not change (an edit of
		// a docs folder in place); a push webhook, refreshDocs and
		// refreshEntity look at once.
		CheckInterval settings.Duration `yaml:"checkInterval"`
	} `yaml:"techdocs"`
	// Integrations are the source hosts that publish:github and
	// publish:gitlab create repositories on, written as Backstage's
	// integrations config is; github.com and gitlab.com are known without
	// an entry, but need one for a token.
	Integrations struct {
		GitHub []Integration `yaml:"github"`
		GitLab []Integration `yaml:"gitlab"`
	} `yaml:"integrations"`
	// History configures the entities' histories (versions, asOf).
	History struct {
		// Retention is how long versions are kept; an entity unchanged for
		// longer keeps its last one.
		Retention settings.Duration `yaml:"retention"`
	} `yaml:"history"`

	// dir is the directory relative file locations in the config file are
	// resolved against; policyDir the same for the policy file.
	dir, policyDir string
	// fileDir is the config file's directory, which relative paths of the
	// catalog settings are resolved against, whatever overrides locations.
	fileDir string
	// rootsFromEnv says catalog.fileRoots came from the environment, so
	// relative roots are relative to the working directory.
	rootsFromEnv bool
}

// URLAuth is a header sent with every request to one host.
type URLAuth struct {
	Host   string `yaml:"host"`   // exact host, with the port if the URLs name one
	Header string `yaml:"header"` // Authorization unless set
	// Value is the header's value; ${VAR} takes an environment variable.
	Value string `yaml:"value"`
	// ValueFile is a file holding the value instead (trailing newline
	// dropped), read at start.
	ValueFile string `yaml:"valueFile"`
	// AllowHTTP sends it over plain http too; https only by default.
	AllowHTTP bool `yaml:"allowHTTP"`
}

// Integration is one host of an integration.
type Integration struct {
	Host string `yaml:"host"`
	// APIBaseURL is the REST API's base URL: for GitHub Enterprise
	// https://HOST/api/v3, for self-hosted GitLab https://HOST/api/v4.
	APIBaseURL string `yaml:"apiBaseUrl"`
	// Token authenticates the API calls and the push; ${VAR} takes an
	// environment variable.
	Token string `yaml:"token"`
}

// integrations returns the configured integrations for publish actions.
func (c Config) integrations() []scaffolder.Integration {
	var out []scaffolder.Integration
	for kind, list := range map[string][]Integration{"github": c.Integrations.GitHub, "gitlab": c.Integrations.GitLab} {
		for _, i := range list {
			out = append(out, scaffolder.Integration{Kind: kind, Host: i.Host, APIBaseURL: i.APIBaseURL, Token: i.Token})
		}
	}
	return out
}

// DefaultConfig serves a demo: SQLite in ./greenroom.db on 127.0.0.1:7007.
func DefaultConfig() Config {
	var c Config
	c.Listen = "127.0.0.1:7007"
	c.Database = "./greenroom.db"
	c.Catalog.RefreshInterval = settings.Duration(3 * time.Minute)
	c.Catalog.Orphans = "keep"
	c.TechDocs.CheckInterval = settings.Duration(time.Hour)
	c.Catalog.WatchFiles = true
	c.Jobs.Timeout = settings.Duration(10 * time.Minute)
	c.Jobs.RescueAfter = settings.Duration(15 * time.Minute)
	c.Jobs.DeadAfter = settings.Duration(jobs.DefaultDeadAfter)
	c.Catalog.MaxFileSize = ingest.DefaultMaxFileSize
	c.Catalog.MaxEntitySize = ingest.DefaultMaxEntitySize
	c.Catalog.MaxLocationSize = ingest.DefaultMaxLocationSize
	c.Catalog.RegisterTypes = []string{ingest.TypeURL}
	c.Log.Level = "info"
	c.Log.Format = "auto"
	c.Auth.Subject = "sub"
	c.API.ReadHeaderTimeout = settings.Duration(10 * time.Second)
	c.API.IdleTimeout = settings.Duration(2 * time.Minute)
	c.ChangeFeed.Retention = settings.Duration(changefeed.DefaultRetention)
	c.History.Retention = settings.Duration(changefeed.DefaultHistoryRetention)
	c.Scaffolder.StepTimeout = settings.Duration(10 * time.Minute)
	return c
}

// loadFile reads a config file over c. Unknown keys are errors, so that a
// misspelt setting does not pass silently.
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file sets nothing
		return fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	c.dir = filepath.Dir(abs)
	c.policyDir, c.fileDir = c.dir, c.dir
	return nil
}

// policyPath returns the policy file's path, relative ones resolved against
// the config file's directory.
func (c *Config) policyPath() string {
	if c.Policy == "" || filepath.IsAbs(c.Policy) || c.policyDir == "" {
		return c.Policy
	}
	return filepath.Join(c.policyDir, c.Policy)
}

// loadEnv applies GREENROOM_* variables over c.
func (c *Config) loadEnv(getenv func(string) string) error {
	if v := getenv("GREENROOM_LISTEN"); v != "" {
		c.Listen = v
	}
	if v := getenv("GREENROOM_DATABASE"); v != "" {
		c.Database = v
	}
	if v := getenv("GREENROOM_LOCATIONS"); v != "" {
		c.Locations, c.dir = settings.SplitList(v), ""
	}
	if v := getenv("GREENROOM_REFRESH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("GREENROOM_REFRESH_INTERVAL: %q is not a duration such as 90s or 5m", v)
		}
		c.Catalog.RefreshInterval = settings.Duration(d)
	}
	if v := getenv("GREENROOM_CHANGEFEED_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("GREENROOM_CHANGEFEED_RETENTION: %q is not a duration such as 168h", v)
		}
		c.ChangeFeed.Retention = settings.Duration(d)
	}
	if v := getenv("GREENROOM_HISTORY_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("GREENROOM_HISTORY_RETENTION: %q is not a duration such as 2160h", v)
		}
		c.History.Retention = settings.Duration(d)
	}
	if v := getenv("GREENROOM_ORPHANS"); v != "" {
		c.Catalog.Orphans = v
	}
	if err := settings.Bool(getenv, "GREENROOM_WATCH_FILES", &c.Catalog.WatchFiles); err != nil {
		return err
	}
	for name, d := range map[string]*settings.Duration{"GREENROOM_JOBS_TIMEOUT": &c.Jobs.Timeout, "GREENROOM_JOBS_RESCUE_AFTER": &c.Jobs.RescueAfter,
		"GREENROOM_JOBS_DEAD_AFTER": &c.Jobs.DeadAfter} {
		if v := getenv(name); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration such as 90s or 5m", name, v)
			}
			*d = settings.Duration(parsed)
		}
	}
	if v := getenv("GREENROOM_MAX_FILE_SIZE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("GREENROOM_MAX_FILE_SIZE: %q is not a number of bytes", v)
		}
		c.Catalog.MaxFileSize = n
	}
	for name, dst := range map[string]*int64{
		"GREENROOM_MAX_ENTITY_SIZE": &c.Catalog.MaxEntitySize, "GREENROOM_MAX_LOCATION_SIZE": &c.Catalog.MaxLocationSize,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number of bytes", name, v)
			}
			*dst = n
		}
	}
	if v := getenv("GREENROOM_REGISTER_TYPES"); v != "" {
		c.Catalog.RegisterTypes = settings.SplitList(v)
	}
	if v := getenv("GREENROOM_FILE_ROOTS"); v != "" {
		c.Catalog.FileRoots = settings.SplitList(v)
		c.rootsFromEnv = true
	}
	if v := getenv("GREENROOM_ALLOWED_HOSTS"); v != "" {
		c.Catalog.AllowedHosts = settings.SplitList(v)
	}
	for i, a := range c.Catalog.URLAuth {
		c.Catalog.URLAuth[i].Value = os.Expand(a.Value, getenv)
	}
	for _, list := range [][]Integration{c.Integrations.GitHub, c.Integrations.GitLab} {
		for i := range list {
			list[i].Token = os.Expand(list[i].Token, getenv)
		}
	}
	if v := getenv("GREENROOM_METRICS_LISTEN"); v != "" {
		c.Metrics.Listen = v
	}
	// OpenTelemetry's own variables: the traces endpoint is a full URL,
	// the other a base URL, as the OTLP exporter specification says.
	if v := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); v != "" {
		c.Tracing.OTLPEndpoint = v
	}
	if v := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v != "" {
		c.Tracing.tracesURL = v
	}
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		c.Tracing.OTLPEndpoint, c.Tracing.tracesURL = "", ""
	}
	if v := getenv("GREENROOM_LOG_LEVEL"); v != "" {
		c.Log.Level = v
	}
	if v := getenv("GREENROOM_LOG_FORMAT"); v != "" {
		c.Log.Format = v
	}
	c.Auth.LoadEnv(getenv)
	for name, dst := range map[string]*string{
		"GREENROOM_AUTH_SUBJECT":        &c.Auth.Subject,
		"GREENROOM_HOOKS_GITHUB_SECRET": &c.Hooks.Secrets.GitHub, "GREENROOM_HOOKS_GITLAB_SECRET": &c.Hooks.Secrets.GitLab,
		"GREENROOM_HOOKS_GITEA_SECRET": &c.Hooks.Secrets.Gitea, "GREENROOM_HOOKS_BITBUCKET_SECRET": &c.Hooks.Secrets.Bitbucket,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("GREENROOM_POLICY"); v != "" {
		c.Policy, c.policyDir = v, ""
	}
	for name, dst := range map[string]*bool{
		"GREENROOM_PRODUCTION": &c.Production, "GREENROOM_AUTH_ALLOW_UNKNOWN_USERS": &c.Auth.AllowUnknownUsers,
	} {
		if err := settings.Bool(getenv, name, dst); err != nil {
			return err
		}
	}
	return nil
}

// validate checks settings that have a fixed set of values.
func (c *Config) validate() error {
	switch c.Catalog.Orphans {
	case "keep", "delete":
	default:
		return fmt.Errorf("config: catalog.orphans must be keep or delete, not %q", c.Catalog.Orphans)
	}
	if c.Catalog.RefreshInterval <= 0 {
		return errors.New("config: catalog.refreshInterval must be positive")
	}
	if c.TechDocs.CheckInterval <= 0 {
		return errors.New("config: techdocs.checkInterval must be positive")
	}
	if c.ChangeFeed.Retention <= 0 {
		return errors.New("config: changefeed.retention must be positive")
	}
	if c.History.Retention <= 0 {
		return errors.New("config: history.retention must be positive")
	}
	if c.Catalog.MaxFileSize <= 0 {
		return errors.New("config: catalog.maxFileSize must be positive")
	}
	if c.Jobs.Timeout <= 0 || c.Jobs.RescueAfter <= c.Jobs.Timeout {
		return fmt.Errorf("config: jobs.timeout (%s) must be positive and jobs.rescueAfter (%s) longer, or a running job would be retried beside itself",
			time.Duration(c.Jobs.Timeout), time.Duration(c.Jobs.RescueAfter))
	}
	if c.Jobs.DeadAfter < settings.Duration(2*jobs.DefaultHeartbeat) {
		return fmt.Errorf("config: jobs.deadAfter (%s) must be at least two heartbeats (%s)", time.Duration(c.Jobs.DeadAfter), 2*jobs.DefaultHeartbeat)
	}
	if c.Catalog.MaxEntitySize <= 0 {
		return errors.New("config: catalog.maxEntitySize must be positive")
	}
	if c.Catalog.MaxLocationSize < c.Catalog.MaxEntitySize {
		return errors.New("config: catalog.maxLocationSize must be at least catalog.maxEntitySize")
	}
	switch c.Auth.Subject {
	case "sub", "email":
	default:
		return fmt.Errorf("config: auth.subject must be sub or email, not %q", c.Auth.Subject)
	}
	if c.API.ReadHeaderTimeout <= 0 || c.API.IdleTimeout <= 0 {
		return errors.New("config: api.readHeaderTimeout and api.idleTimeout must be positive")
	}
	if lim := c.API.Limits().Effective(); lim.WriteTimeout > 0 && lim.Timeout > 0 && lim.WriteTimeout <= lim.Timeout {
		return fmt.Errorf("config: api.writeTimeout (%s) must be longer than api.timeout (%s), or responses are cut before their deadline",
			lim.WriteTimeout, lim.Timeout)
	}
	if err := c.validateOperations(); err != nil {
		return err
	}
	for _, t := range c.Catalog.RegisterTypes {
		if t != ingest.TypeURL && t != ingest.TypeFile {
			return fmt.Errorf("config: catalog.registerTypes: %q is not file or url", t)
		}
	}
	for _, p := range c.Catalog.AllowedHosts {
		if err := ingest.CheckHostPattern(p); err != nil {
			return fmt.Errorf("config: catalog.allowedHosts: %w", err)
		}
	}
	if _, err := ingest.NewRules(c.rules()); err != nil {
		return fmt.Errorf("config: catalog.rules: %w", err)
	}
	if _, err := c.urlAuth(); err != nil {
		return err
	}
	_, err := c.locations()
	return err
}

// rules returns catalog.rules with relative file targets and patterns
// resolved against the config file's directory.
func (c *Config) rules() []ingest.Rule {
	if c.Catalog.Rules == nil {
		return nil
	}
	out := make([]ingest.Rule, len(c.Catalog.Rules))
	for i, r := range c.Catalog.Rules {
		out[i] = ingest.Rule{Allow: r.Allow}
		if r.Locations == nil {
			continue
		}
		out[i].Locations = make([]ingest.RuleLocation, len(r.Locations))
		for j, l := range r.Locations {
			if l.Type == ingest.TypeFile {
				l.Target, l.Pattern = c.absPath(l.Target), c.absPath(l.Pattern)
			}
			out[i].Locations[j] = l
		}
	}
	return out
}

// fileRoots returns catalog.fileRoots as absolute paths.
func (c *Config) fileRoots() []string {
	var out []string
	for _, r := range c.Catalog.FileRoots {
		if c.rootsFromEnv {
			r, _ = filepath.Abs(r)
		} else {
			r = c.absPath(r)
		}
		out = append(out, r)
	}
	return out
}

// absPath resolves a relative path against the config file's directory, or
// the working directory; "" stays "".
func (c *Config) absPath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if c.fileDir != "" {
		p = filepath.Join(c.fileDir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// urlAuth returns catalog.urlAuth with each value read.
func (c *Config) urlAuth() ([]ingest.URLAuth, error) {
	var out []ingest.URLAuth
	for i, a := range c.Catalog.URLAuth {
		where := fmt.Sprintf("config: catalog.urlAuth[%d]", i)
		if a.Host == "" || strings.ContainsAny(a.Host, "/@ ") {
			return nil, fmt.Errorf("%s: host must be a host name, with a port if the URLs name one, not %q", where, a.Host)
		}
		if (a.Value == "") == (a.ValueFile == "") {
			return nil, fmt.Errorf("%s (%s): give one of value and valueFile", where, a.Host)
		}
		value := a.Value
		if a.ValueFile != "" {
			b, err := os.ReadFile(c.absPath(a.ValueFile))
			if err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, a.Host, err)
			}
			value = strings.TrimRight(string(b), "\r\n")
			if value == "" {
				return nil, fmt.Errorf("%s (%s): %s is empty", where, a.Host, a.ValueFile)
			}
		}
		header := a.Header
		if header == "" {
			header = "Authorization"
		}
		out = append(out, ingest.URLAuth{Host: a.Host, Header: header, Value: value, AllowHTTP: a.AllowHTTP})
	}
	return out, nil
}

// locations parses the configured locations into types and absolute targets.
func (c *Config) locations() ([]catalog.Location, error) {
	var out []catalog.Location
	for _, s := range c.Locations {
		loc, err := parseLocation(s, c.dir)
		if err != nil {
			return nil, err
		}
		out = append(out, loc)
	}
	return out, nil
}

// parseLocation reads "path", "file:path", "url:https://…" or "https://…".
// A relative path is resolved against dir, or the working directory.
func parseLocation(s, dir string) (catalog.Location, error) {
	typ, target := ingest.TypeFile, s
	switch {
	case strings.HasPrefix(s, "url:"):
		typ, target = ingest.TypeURL, strings.TrimPrefix(s, "url:")
	case strings.HasPrefix(s, "file:"):
		target = strings.TrimPrefix(s, "file:")
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		typ = ingest.TypeURL
	}
	target = strings.TrimSpace(target)
	if target == "" {
		return catalog.Location{}, fmt.Errorf("location %q has no target", s)
	}
	if typ == ingest.TypeURL {
		if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
			return catalog.Location{}, fmt.Errorf("location %q: a url location must be an http or https URL", s)
		}
		if _, err := ingest.CheckLocationURL(target); err != nil {
			// Not quoted: the target may hold the very secret refused.
			return catalog.Location{}, fmt.Errorf("a url location: %w", err)
		}
		return catalog.Location{Type: typ, Target: target}, nil
	}
	if !filepath.IsAbs(target) {
		if dir != "" {
			target = filepath.Join(dir, target)
		}
		abs, err := filepath.Abs(target)
		if err != nil {
			return catalog.Location{}, err
		}
		target = abs
	}
	return catalog.Location{Type: typ, Target: filepath.Clean(target)}, nil
}

// validateOperations checks the metrics and tracing settings.
func (c *Config) validateOperations() error {
	switch l := c.Metrics.Listen; l {
	case "", "off":
	default:
		if _, _, err := net.SplitHostPort(l); err != nil {
			return fmt.Errorf("config: metrics.listen must be empty (serve on listen), off, or a host:port, not %q", l)
		}
		if l == c.Listen {
			return errors.New("config: metrics.listen is the API's listen address; leave it empty to serve /metrics there")
		}
	}
	if c.Metrics.MaxOperationNames < 0 {
		return errors.New("config: metrics.maxOperationNames must not be negative")
	}
	if u := c.tracesURL(); u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			// Not quoted: a collector's URL may carry a credential.
			return errors.New("config: tracing.otlpEndpoint (or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT) must be an http or https URL")
		}
	}
	return nil
}

// tracesURL returns the URL spans are sent to, or "" when tracing is off.
func (c *Config) tracesURL() string {
	if c.Tracing.tracesURL != "" {
		return c.Tracing.tracesURL
	}
	if c.Tracing.OTLPEndpoint == "" {
		return ""
	}
	return strings.TrimRight(c.Tracing.OTLPEndpoint, "/") + "/v1/traces"
}
