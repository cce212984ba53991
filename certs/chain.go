package certs

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"text/tabwriter"
	"time"

	"github.com/seskit/ses/cli"
	"github.com/seskit/ses/client"
	"github.com/seskit/ses/clientcmd"
	"github.com/seskit/ses/tool"
)

// ChainCmd is `ses certs chain`.
type ChainCmd struct {
	URL                 string `arg:"" help:"The server, e.g. https://demo.westus.batch.azure.com."`
	clientcmd.ConnFlags `embed:""`
}

// Run connects, sends nothing but the handshake, and prints the chain the
// server presents with the pins that match.
func (c *ChainCmd) Run(g *cli.Globals) error {
	c.ConnFlags.URL = c.URL
	o, err := c.ConnFlags.Options(g)
	if err != nil {
		return err
	}
	u, err := client.ParseURL(o.URL)
	if err != nil {
		return cli.WithCode(cli.ExitUntrusted, err)
	}
	// The host rules of the client, before anything is dialled.
	host, err := tool.CheckHost(u.Hostname(), o.AllowHosts)
	if err != nil {
		refused := &client.UntrustedError{Err: err}
		var he *tool.HostError
		if errors.As(err, &he) && he.NotListed {
			refused.RefusedHost = u.Hostname()
			fmt.Fprintf(g.Stdout, "result: %s is not a Batch account host; the client would refuse it before connecting\n", tool.Printable(u.Hostname()))
		}
		return clientcmd.ExitError(refused)
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	// The handshake is made without verification so that the chain can be
	// shown whatever it is; it is judged below, and nothing is sent. A
	// handshake that fails is not trusted, as in the client.
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	addr := net.JoinHostPort(host, port)
	raw, err := (&net.Dialer{Timeout: 15 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return cli.WithCode(cli.ExitUnreachable, fmt.Errorf("connecting to %s: %w", addr, err))
	}
	conn := tls.Client(raw, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	err = conn.HandshakeContext(ctx)
	state := conn.ConnectionState()
	conn.Close()
	if err != nil {
		return cli.WithCode(cli.ExitUntrusted, fmt.Errorf("the TLS handshake with %s failed: %w", addr, err))
	}

	pins := o.Pins
	if pins == nil {
		pins = tool.BuiltinPins()
	}
	pins = append(pins, o.ExtraPins...)
	now := g.Now()
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "chain presented by %s (%s)\n", addr, tls.VersionName(state.Version))
	for i, cert := range state.PeerCertificates {
		sum := sha256.Sum256(cert.Raw)
		fmt.Fprintf(tw, "%d\t%s\n", i, tool.Printable(cert.Subject.String()))
		fmt.Fprintf(tw, "\tsha-1\t%s\n", tool.ThumbprintOf(cert))
		fmt.Fprintf(tw, "\tsha-256\t%X\n", sum)
		fmt.Fprintf(tw, "\tissuer\t%s\n", tool.Printable(cert.Issuer.String()))
		fmt.Fprintf(tw, "\tvalid\t%s to %s\n", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		for j := range pins {
			if pins[j].Matches(cert, host, now) {
				fmt.Fprintf(tw, "\tpinned\t%s\n", tool.Printable(pins[j].Name))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	// Judge the chain as the client would.
	roots := client.Roots(host, o)
	chains, err := client.VerifyChain(state.PeerCertificates, host, roots, now)
	if err != nil {
		fmt.Fprintf(g.Stdout, "\nresult: the chain does not verify: %s\n", tool.Printable(err.Error()))
		return &cli.Error{Code: cli.ExitUntrusted, Err: err}
	}
	if _, err := tool.CheckPins(chains, host, pins, now); err != nil {
		fmt.Fprintf(g.Stdout, "\nresult: %s\n", tool.Printable(err.Error()))
		return &cli.Error{Code: cli.ExitUntrusted, Err: err}
	}
	fmt.Fprintf(g.Stdout, "\nresult: trusted: the chain verifies and contains a pinned certificate\n")
	return nil
}
