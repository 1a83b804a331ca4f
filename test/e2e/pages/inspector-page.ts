import type { Locator, Page } from "@playwright/test";

/** The Inspector: the objects table, one object's page, the event bus. */
export class InspectorPage {
  readonly rows: Locator;
  readonly search: Locator;
  readonly stateFilter: Locator;
  readonly count: Locator;
  readonly objectPage: Locator;
  readonly title: Locator;
  readonly transitions: Locator;
  readonly diagram: Locator;
  readonly sql: Locator;
  readonly runSql: Locator;
  readonly unlockWrites: Locator;
  readonly sqlResult: Locator;
  readonly sqlError: Locator;
  readonly logLines: Locator;
  readonly hibernate: Locator;
  readonly back: Locator;

  constructor(readonly page: Page) {
    this.rows = page.getByTestId("object-row");
    this.search = page.getByLabel("Search objects");
    this.stateFilter = page.getByLabel("Filter by state");
    this.count = page.getByTestId("object-count");
    this.objectPage = page.getByTestId("object-page");
    this.title = page.getByTestId("object-title");
    this.transitions = page.getByTestId("transition");
    this.diagram = page.getByTestId("state-diagram");
    this.sql = page.getByLabel("SQL", { exact: true });
    this.runSql = page.getByRole("button", { name: /^Run/ });
    this.unlockWrites = page.getByLabel("Unlock writes");
    this.sqlResult = page.getByTestId("sql-result");
    this.sqlError = page.getByTestId("sql-error");
    this.logLines = page.getByTestId("log-line");
    this.hibernate = page.getByRole("button", { name: "Hibernate now", exact: true });
    this.back = page.getByRole("button", { name: "← Objects" });
    this.kv = page.getByTestId("kv-table");
    this.eventBus = page.getByTestId("event-bus");
  }

  readonly kv: Locator;
  readonly eventBus: Locator;

  /** The objects table's message when the filters match none of the objects. */
  get noMatch(): Locator {
    return this.page.getByTestId("no-match");
  }
  get topicsTable(): Locator {
    return this.page.getByTestId("topics");
  }
  get topicPatterns(): Locator {
    return this.page.getByTestId("topic-patterns");
  }
  /** The seq of every transition row drawn. */
  async transitionSeqs(): Promise<string[]> {
    const out: string[] = [];
    for (const row of await this.transitions.all()) out.push((await row.getAttribute("data-seq")) ?? "");
    return out;
  }

  /** The object page's "Why is it awake?" card. */
  get whyAwake(): Locator {
    return this.page.getByTestId("why-awake");
  }
  get whyReasons(): Locator {
    return this.page.getByTestId("why-reasons").locator("li");
  }
  get hibernateAndWake(): Locator {
    return this.page.getByRole("button", { name: /^(Hibernate now, then wake|Wake)$/ });
  }
  get wakeResult(): Locator {
    return this.page.getByTestId("wake-result");
  }
  /** The objects table's "Awake because" cell of the row named `name`. */
  awakeCell(name: string): Locator {
    return this.row(name).getByTestId("awake-cell");
  }

  /** The object page's Sockets, Events and Send request panels. */
  get sockets(): Locator {
    return this.page.getByTestId("object-socket");
  }
  get publishedEvents(): Locator {
    return this.page.getByTestId("published-event");
  }
  get receivedEvents(): Locator {
    return this.page.getByTestId("received-event");
  }
  get objectRequestPath(): Locator {
    return this.page.getByLabel("Object request path");
  }
  get objectRequestMethod(): Locator {
    return this.page.getByLabel("Object request method");
  }
  get objectRequestBody(): Locator {
    return this.page.getByLabel("Object request body");
  }
  get sendToObject(): Locator {
    return this.page.getByRole("button", { name: "Send to object" });
  }
  get objectResponse(): Locator {
    return this.page.getByRole("region", { name: "Object response" });
  }

  /** The Queues section: one row per queue, and the batches of the one selected. */
  queue(name: string): Locator {
    return this.page.getByTestId("queue-table").locator(`tr[data-queue="${name}"]`);
  }
  get queueBatches(): Locator {
    return this.page.getByTestId("queue-batches");
  }

  /** The Email section: one row per captured message, and the one opened. */
  email(subject: string): Locator {
    return this.page.getByTestId("email-table").locator("tr[data-email]").filter({ hasText: subject });
  }
  get emailMessage(): Locator {
    return this.page.getByTestId("email-message");
  }

  topic(topic: string): Locator {
    return this.eventBus.getByRole("row").filter({ hasText: topic }).first();
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="object-row"][data-object-name="${name}"]`);
  }

  rowState(name: string): Locator {
    return this.row(name).locator("[data-state]");
  }

  /** The badge in the object page's header. */
  currentState(): Locator {
    return this.page.locator(".object-head [data-state]");
  }

  panel(
    name: "Lifecycle" | "Storage" | "Snapshots" | "Sockets" | "Events" | "Send request" | "Alarms" | "Logs",
  ): Locator {
    return this.page.getByRole("tab", { name });
  }

  section(
    name:
      | "Objects"
      | "Traces"
      | "Event bus"
      | "Queues"
      | "Database"
      | "Bucket"
      | "KV"
      | "Rate limits"
      | "Analytics"
      | "Mock calls"
      | "Email",
  ): Locator {
    return this.page.getByRole("navigation", { name: "Inspector sections" }).getByRole("button", { name });
  }

  stateNode(state: string): Locator {
    return this.diagram.locator(`[data-state-node="${state}"]`);
  }

  edge(from: string, to: string): Locator {
    return this.diagram.locator(`[data-edge="${from}>${to}"]`);
  }

  /** A table in the storage panel's list: clicking it pages through its rows. */
  table(name: string): Locator {
    return this.page.getByTestId("table-link").filter({ hasText: new RegExp(`^${name}$`) });
  }

  /** The Database section: a D1 table in its list (with its row count). */
  databaseTable(name: string): Locator {
    return this.page.locator(`[data-testid="database-table"][data-table="${name}"]`);
  }

  /** The Bucket section: one key's row. */
  bucketKey(key: string): Locator {
    return this.page.locator(`[data-testid="bucket-key"][data-key="${key}"]`);
  }

  pager(): Locator {
    return this.page.getByTestId("pager");
  }

  async query(sql: string): Promise<void> {
    await this.sql.fill(sql);
    await this.runSql.click();
  }
}
