package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/greenroomhq/greenroom/internal/auth"
	"github.com/greenroomhq/greenroom/internal/policy"
)

// cmdToken mints an HS256 development token with the configured secret.
func cmdToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFileFlags("token", stderr)
	sub := f.fs.String("sub", "", "the subject: a User entity ref such as user:default/jane, or service:NAME (required)")
	secret := f.fs.String("secret", "", "the HS256 secret (default auth.secret; GREENROOM_AUTH_SECRET)")
	email := f.fs.String("email", "", "an email claim, for servers that find users by email")
	issuer := f.fs.String("issuer", "", "the iss claim (default auth.issuer)")
	var audience stringList
	f.fs.Var(&audience, "audience", "an aud claim; repeatable (default auth.audience)")
	ttl := f.fs.Duration("ttl", auth.DefaultTokenTTL, "how long the token is valid")
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	cfg, err := f.load(getenv)
	if err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("token: --sub is required, such as --sub user:default/jane")
	}
	o := auth.MintOptions{Subject: *sub, Email: *email, Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, TTL: *ttl}
	if *secret == "" {
		*secret = cfg.Auth.Secret
	}
	if *issuer != "" {
		o.Issuer = *issuer
	}
	if len(audience) > 0 {
		o.Audience = audience
	}
	if *secret == "" {
		return errors.New("token: no secret: pass --secret, or set auth.secret or GREENROOM_AUTH_SECRET")
	}
	if len(*secret) < auth.MinSecretLength {
		return fmt.Errorf("token: the secret must be at least %d bytes (openssl rand -base64 32 makes one)", auth.MinSecretLength)
	}
	tok, err := auth.MintDevToken(*secret, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// cmdPolicy runs `greenroom policy check FILE...`: it reports every problem
// of each policy file as file:line: message, and exits 1 when there is one.
func cmdPolicy(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: greenroom policy check FILE...") }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 2 || fs.Arg(0) != "check" {
		fs.Usage()
		return 2
	}
	status := 0
	for _, path := range fs.Args()[1:] {
		p, err := policy.Load(path)
		var pe *policy.ParseError
		switch {
		case errors.As(err, &pe):
			for _, problem := range pe.Problems {
				fmt.Fprintln(stdout, problem)
			}
			status = 1
		case err != nil:
			fmt.Fprintln(stderr, "greenroom:", err)
			return 2
		default:
			fmt.Fprintf(stdout, "%s: %d rules, no problems\n", path, p.Len())
		}
	}
	return status
}
