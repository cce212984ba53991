// Package verify implements `ses verify`: it opens a token offline and
// explains every check it passed or failed.
package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/tool"
)

// Cmd is `ses verify`.
type Cmd struct {
	Token        string `arg:"" optional:"" help:"The token, or - to read it from stdin (default: --token-file, else $AZ_BATCH_SOFTWARE_ENTITLEMENT_TOKEN)."`
	TokenFile    string `help:"Read the token from this file." type:"path" placeholder:"FILE"`
	cli.KeyFlags `embed:""`
	App          string   `help:"Check that the token entitles this application." placeholder:"APP"`
	Address      string   `help:"Check that the token entitles this address." placeholder:"IP"`
	Audience     string   `help:"Expected audience (default: ${default_audience})." placeholder:"URL"`
	Issuer       string   `help:"Expected issuer (default: ${default_issuer})." placeholder:"URL"`
	At           string   `help:"Judge the token as of this time, as ses token --not-before takes it (2026-11-22T10:00Z, 2026-11-22T10:00 local, 11/22/2026 10:00:00 local, a date, or +2h/-1d from now)." placeholder:"TIME"`
	Key          []string `help:"Simple Web Token: an HMAC-SHA256 key (base64); give the current and then the previous key." placeholder:"KEY"`
	JSON         bool     `help:"Print the explanation as JSON."`
}

// Run explains the token and exits 1 when it is not valid.
func (c *Cmd) Run(g *cli.Globals) error {
	if fi, err := os.Stat(c.Token); c.Token != "-" && err == nil && fi.Mode().IsRegular() {
		return cli.Usagef("%s is a file, not a token", c.Token).
			Hint("read the token from it with --token-file %s (or from stdin: ses verify - < %s)", c.Token, c.Token)
	}
	raw, err := g.ReadToken(c.Token, c.TokenFile, client.EnvToken)
	if err != nil {
		return err
	}
	at := g.Now()
	if c.At != "" {
		if at, err = g.ParseTime("--at", c.At); err != nil {
			return err
		}
	}
	if tool.IsSWT(raw) {
		return c.explainSWT(g, raw, at)
	}
	req := tool.Request{Now: at, Application: strings.TrimSpace(c.App)}
	if c.Address != "" {
		if req.Address, err = netip.ParseAddr(strings.TrimSpace(c.Address)); err != nil {
			return cli.Usagef("--address %q is not an IP address", c.Address)
		}
	}
	v, _, err := c.Verifier(g, c.Issuer, c.Audience)
	if err != nil {
		return err
	}

	rep := v.Explain(raw, req)
	if c.JSON {
		err = writeJSON(g.Stdout, rep, at)
	} else {
		err = writeText(g.Stdout, rep, at)
	}
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		e := &cli.Error{Code: cli.ExitNo, Err: fmt.Errorf("token is not valid: %w", err)}
		var te *tool.CheckError
		if errors.As(err, &te) && hints[te.Reason] != "" {
			e.Hint("%s", hints[te.Reason])
		}
		return e
	}
	return nil
}

// hints say, for the failures a person can act on, which flag to change.
var hints = map[tool.Reason]string{
	tool.ReasonEncryptionKey:        "pass the certificate the token was encrypted to with --encrypt (a file, or its thumbprint from `ses certs list`)",
	tool.ReasonSigningKey:           "pass the certificate the token was signed with as --sign",
	tool.ReasonUnexpectedEncryption: "the token is encrypted: pass --encrypt CERT (dev for the development certificate)",
	tool.ReasonNotEncrypted:         "the token is not encrypted: pass --encrypt none if the server accepts unencrypted tokens",
	tool.ReasonUnexpectedSignature:  "the token is signed: pass --sign CERT (dev for the development certificate)",
	tool.ReasonNotSigned:            "the token is unsigned: pass --sign none if the server accepts unsigned tokens",
	tool.ReasonExpired:              "mint a new token, or judge it at another time with --at",
	tool.ReasonNotYetValid:          "judge it at a later time with --at",
	tool.ReasonIssuer:               "pass the issuer the server expects with --issuer",
	tool.ReasonAudience:             "pass the audience the server expects with --audience",
}

func writeText(w io.Writer, rep *tool.Explanation, at time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := tool.Printable // every value below comes from the token
	if t := rep.Token; t != nil {
		if t.Encrypted {
			fmt.Fprintf(tw, "encrypted\t%s + %s, to key %s\n", p(t.KeyAlgorithm), p(t.ContentEncryption), p(tool.OrNone(t.EncryptionKeyID)))
		} else {
			fmt.Fprintf(tw, "encrypted\tno\n")
		}
		if t.Signed {
			fmt.Fprintf(tw, "signed\t%s, by key %s\n", p(t.SignatureAlgorithm), p(tool.OrNone(t.SigningKeyID)))
		} else {
			fmt.Fprintf(tw, "signed\tno (alg %q)\n", t.SignatureAlgorithm)
		}
		title := "claims"
		if !t.Verified {
			title = "claims (unverified: shown, not trusted)"
		}
		fmt.Fprintf(tw, "\n%s\n", title)
		for _, row := range claimRows(t.Claims, at) {
			fmt.Fprintf(tw, "  %s\t%s\n", row[0], p(row[1]))
		}
	}
	writeChecks(tw, rep, at)
	return tw.Flush()
}

// writeChecks prints every check with pass or FAIL, then the verdict. A
// check's detail and message may quote the token: they are escaped.
func writeChecks(tw *tabwriter.Writer, rep *tool.Explanation, at time.Time) {
	fmt.Fprintf(tw, "\nchecks\n")
	for _, ch := range rep.Checks {
		if ch.Err == nil {
			fmt.Fprintf(tw, "  pass\t%s\t%s\n", ch.Name, tool.Printable(ch.Detail))
		} else {
			fmt.Fprintf(tw, "  FAIL\t%s\t%s: %s\n", ch.Name, ch.Err.Reason, tool.Printable(ch.Err.Msg))
		}
	}
	verdict := "valid"
	if rep.Err() != nil {
		verdict = "invalid"
	}
	fmt.Fprintf(tw, "\nresult\t%s as of %s\n", verdict, at.UTC().Format(time.RFC3339))
}

// claimRows lists the claims for display, times in RFC 3339 with how far
// they are from at.
func claimRows(c tool.Claims, at time.Time) [][2]string {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "(absent)"
		}
		return t.UTC().Format(time.RFC3339) + " (" + relative(t, at) + ")"
	}
	return [][2]string{
		{tool.ClaimID, tool.OrNone(c.ID)},
		{tool.ClaimApplications, tool.OrNone(strings.Join(c.Applications, ", "))},
		{tool.ClaimAddresses, tool.OrNone(strings.Join(c.Addresses, ", "))},
		{tool.ClaimVMID, tool.OrNone(c.VMID)},
		{tool.ClaimIssuer, tool.OrNone(c.Issuer)},
		{tool.ClaimAudience, tool.OrNone(c.Audience)},
		{tool.ClaimNotBefore, when(c.NotBefore)},
		{tool.ClaimExpiry, when(c.Expiry)},
		{tool.ClaimIssuedAt, when(c.IssuedAt)},
	}
}

// relative says how far t is from at, to the minute: "in 6d23h", "2h5m ago".
func relative(t, at time.Time) string {
	d := t.Sub(at).Round(time.Minute)
	if d == 0 {
		return "now"
	}
	ago := d < 0
	if ago {
		d = -d
	}
	var s string
	if days := d / (24 * time.Hour); days > 0 {
		s = fmt.Sprintf("%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		s += fmt.Sprintf("%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		s += fmt.Sprintf("%dm", m)
	}
	if ago {
		return s + " ago"
	}
	return "in " + s
}

// jsonReport is the --json form of the explanation.
type jsonReport struct {
	Valid  bool        `json:"valid"`
	At     time.Time   `json:"at"`
	Reason tool.Reason `json:"reason,omitempty"`
	Token  *jsonToken  `json:"token,omitempty"`
	Checks []jsonCheck `json:"checks"`
}

type jsonToken struct {
	Encrypted          bool       `json:"encrypted"`
	KeyAlgorithm       string     `json:"keyAlgorithm,omitempty"`
	ContentEncryption  string     `json:"contentEncryption,omitempty"`
	EncryptionKeyID    string     `json:"encryptionKeyId,omitempty"`
	Signed             bool       `json:"signed"`
	SignatureAlgorithm string     `json:"signatureAlgorithm,omitempty"`
	SigningKeyID       string     `json:"signingKeyId,omitempty"`
	Verified           bool       `json:"verified"`
	Claims             jsonClaims `json:"claims"`
}

type jsonClaims struct {
	ID           string     `json:"id,omitempty"`
	Applications []string   `json:"app,omitempty"`
	Addresses    []string   `json:"ip,omitempty"`
	VMID         string     `json:"vmid,omitempty"`
	Issuer       string     `json:"iss,omitempty"`
	Audience     string     `json:"aud,omitempty"`
	NotBefore    *time.Time `json:"nbf,omitempty"`
	Expiry       *time.Time `json:"exp,omitempty"`
	IssuedAt     *time.Time `json:"iat,omitempty"`
}

type jsonCheck struct {
	Name    string      `json:"name"`
	Passed  bool        `json:"passed"`
	Detail  string      `json:"detail,omitempty"`
	Reason  tool.Reason `json:"reason,omitempty"`
	Message string      `json:"message,omitempty"`
}

func checksJSON(rep *tool.Explanation) []jsonCheck {
	out := []jsonCheck{}
	for _, ch := range rep.Checks {
		jc := jsonCheck{Name: ch.Name, Passed: ch.Err == nil, Detail: ch.Detail}
		if ch.Err != nil {
			jc.Reason, jc.Message = ch.Err.Reason, ch.Err.Msg
		}
		out = append(out, jc)
	}
	return out
}

func writeJSON(w io.Writer, rep *tool.Explanation, at time.Time) error {
	out := jsonReport{Valid: rep.Err() == nil, At: at.UTC(), Checks: checksJSON(rep)}
	for _, ch := range out.Checks {
		if !ch.Passed && out.Reason == "" {
			out.Reason = ch.Reason
		}
	}
	if t := rep.Token; t != nil {
		tp := func(t time.Time) *time.Time {
			if t.IsZero() {
				return nil
			}
			u := t.UTC()
			return &u
		}
		c := t.Claims
		out.Token = &jsonToken{
			Encrypted: t.Encrypted, KeyAlgorithm: t.KeyAlgorithm, ContentEncryption: t.ContentEncryption, EncryptionKeyID: t.EncryptionKeyID,
			Signed: t.Signed, SignatureAlgorithm: t.SignatureAlgorithm, SigningKeyID: t.SigningKeyID, Verified: t.Verified,
			Claims: jsonClaims{ID: c.ID, Applications: c.Applications, Addresses: c.Addresses, VMID: c.VMID, Issuer: c.Issuer, Audience: c.Audience,
				NotBefore: tp(c.NotBefore), Expiry: tp(c.Expiry), IssuedAt: tp(c.IssuedAt)},
		}
	}
	return encodeJSON(w, out)
}

// encodeJSON writes v indented, with what a terminal would act on escaped
// (tool.PrintableJSON): the explanation quotes the token.
func encodeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(tool.PrintableJSON(data), '\n'))
	return err
}
