package client

// Close closes the connections the client keeps open for its next call. A
// client may still be used after Close; it connects again.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}
