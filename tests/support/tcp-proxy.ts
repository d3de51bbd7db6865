import net from 'node:net';

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
}

/** A TCP forwarder that a test can cut, to make a dependency "go down" for the app. */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly links = new Set<Link>();
  private silent = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      const link: Link = { client };
      this.links.add(link);
      this.track(client, link);
      if (this.silent) client.pause();
      else this.connect(link);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Stops listening and cuts every open connection: connecting is refused until start() again. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.links.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /**
   * A network that stops carrying anything while every socket stays open, as a partition does:
   * connections are still accepted but nothing goes through, either way. What was sent meanwhile
   * is held back, not lost, and arrives after resume(), as TCP delivers it once the path is back.
   */
  silence(): void {
    this.silent = true;
    for (const { client, upstream } of this.links) {
      client.unpipe();
      upstream?.unpipe();
      client.pause();
      upstream?.pause();
    }
  }

  /** Carries traffic again after silence(). */
  resume(): void {
    this.silent = false;
    for (const link of this.links) {
      if (link.client.destroyed) continue;
      if (!link.upstream) {
        this.connect(link);
        continue;
      }
      link.client.pipe(link.upstream);
      link.upstream.pipe(link.client);
    }
  }

  private connect(link: Link): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    link.upstream = upstream;
    this.track(upstream, link);
    link.client.pipe(upstream);
    upstream.pipe(link.client);
  }

  private track(socket: net.Socket, link: Link): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.links.delete(link);
      link.client.destroy();
      link.upstream?.destroy();
    });
  }
}
