import { html, LitElement, nothing, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import { BenchDoneEvent } from './bench-done-event.js';
import { BenchProgressEvent } from './bench-progress-event.js';
import { benchStyles } from './bench.styles.js';
import { drawChart } from './chart.js';
import type { BenchReport, PipelineResult, ScenarioResult } from './report.js';
import { figureText, framePipelineNotes, framePipelineRows, mainThreadNote, pipelineRows, ratioHeading, ratioText, reportText, sourceRate, type TableRows } from './report-text.js';
import { targetText, type TargetResult } from './targets.js';
import { runBench, type BenchOptions, type BenchProgress } from './run-bench.js';
import { formatSize } from './format.mjs';
import { SCENARIO_IDS, type ScenarioId } from './scenario.js';

type Phase = 'idle' | 'running' | 'done' | 'failed';

/**
 * @summary The benchmark page: picks scenarios, runs them against their baselines with a
 * progress bar, and shows a results table and a chart per scenario.
 *
 * Every run requests its own two devices (exporter and importer) and destroys them at the
 * end. {@link run} is also the entry point of `npm run bench`, which drives this element in
 * headless Chromium. The state is in `data-phase` on the root: `idle`, `running`, `done`,
 * `failed`.
 *
 * @fires dmabuf-bench-progress - {@link BenchProgressEvent} after every warm-up run and sample.
 * @fires dmabuf-bench-done - {@link BenchDoneEvent} with the report when a run finishes.
 * @csspart chart - the container of each scenario's chart.
 */
export class DmabufBench extends LitElement {
  static override styles = benchStyles;

  static override properties = {
    quick: { type: Boolean },
    selected: { state: true },
    phase: { state: true },
    progress: { state: true },
    report: { state: true },
    error: { state: true },
  };

  /** Whether the Run button runs the short version. */
  declare quick: boolean;
  declare selected: ReadonlySet<ScenarioId>;
  declare phase: Phase;
  declare progress: BenchProgress | undefined;
  /** The last finished run's report. */
  declare report: BenchReport | undefined;
  declare error: string;
  #charts: uPlot[] = [];
  #jsonUrl: string | undefined;

  constructor() {
    super();
    this.quick = false;
    this.selected = new Set(SCENARIO_IDS);
    this.phase = 'idle';
    this.progress = undefined;
    this.report = undefined;
    this.error = '';
  }

  /** The last report as a text table (what `npm run bench` prints); empty before a run. */
  get reportText(): string {
    return this.report ? reportText(this.report) : '';
  }

  /**
   * Runs the benchmark (the chosen scenarios, or those ticked on the page) and resolves with
   * its report; shows progress, then the tables and charts. The pipelines' modules are
   * shown on the page while they run. `mainThreadClock` (which `npm run bench` gives) lets the
   * pipelines report main-thread time.
   * @throws {Error} when a run is already under way, or the page has no WebGPU device.
   */
  async run(options: Pick<BenchOptions, 'quick' | 'smoke' | 'scenarios' | 'mainThreadClock'> = {}): Promise<BenchReport> {
    if (this.phase === 'running') throw new Error('<dmabuf-bench>: a run is already under way');
    const quick = options.quick ?? this.quick;
    const scenarios = options.scenarios ?? SCENARIO_IDS.filter((id) => this.selected.has(id));
    // The page shows what runs, also when a script chose it.
    this.quick = quick;
    this.selected = new Set(scenarios);
    this.phase = 'running';
    this.error = '';
    this.progress = { done: 0, total: 1, label: 'requesting devices' };
    try {
      await this.updateComplete;
      const stage = this.renderRoot.querySelector<HTMLElement>('.stage') ?? undefined;
      const report = await runBench({ quick, smoke: options.smoke ?? false, scenarios, stage, mainThreadClock: options.mainThreadClock }, (progress) => {
        this.progress = progress;
        this.dispatchEvent(new BenchProgressEvent(progress));
      });
      this.report = report;
      this.phase = 'done';
      this.dispatchEvent(new BenchDoneEvent(report));
      return report;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.phase = 'failed';
      throw error;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#destroyCharts();
    if (this.#jsonUrl) URL.revokeObjectURL(this.#jsonUrl);
    this.#jsonUrl = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('report') && this.report) {
      if (this.#jsonUrl) URL.revokeObjectURL(this.#jsonUrl);
      this.#jsonUrl = URL.createObjectURL(new Blob([JSON.stringify(this.report, null, 2)], { type: 'application/json' }));
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('report')) return;
    this.#destroyCharts();
    for (const scenario of this.report?.scenarios ?? []) {
      const target = this.renderRoot.querySelector<HTMLElement>(`[data-chart="${scenario.id}"]`);
      if (target && scenario.points.length > 1) this.#charts.push(drawChart(target, scenario, 680));
    }
  }

  #destroyCharts(): void {
    for (const chart of this.#charts.splice(0)) chart.destroy();
  }

  #toggle(id: ScenarioId, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  #onRun(): void {
    // Errors are shown on the page (phase `failed`).
    this.run().catch(() => undefined);
  }

  override render() {
    const running = this.phase === 'running';
    return html`<div data-phase=${this.phase}>
      <header>
        <p>Each figure is the median of repeated runs after warm-up, with min and max beside it; our variant and its baselines run interleaved in this page, on two devices of its own.</p>
        ${this.#renderAdapter()}
      </header>
      <fieldset ?disabled=${running}>
        <legend>Scenarios</legend>
        ${SCENARIO_IDS.map((id) => html`<label><input type="checkbox" .checked=${this.selected.has(id)}
            @change=${(e: Event) => { this.#toggle(id, (e.target as HTMLInputElement).checked); }} /> ${id}</label>`)}
        <label><input type="checkbox" .checked=${this.quick} @change=${(e: Event) => { this.quick = (e.target as HTMLInputElement).checked; }} /> quick</label>
      </fieldset>
      <div class="actions">
        <button @click=${() => { this.#onRun(); }} ?disabled=${running || this.selected.size === 0}>Run</button>
        ${this.#renderProgress()}
        ${this.report && this.#jsonUrl ? html`<a href=${this.#jsonUrl} download="bench-results.json">results (JSON)</a>` : nothing}
      </div>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="stage" ?hidden=${!running}></div>
      ${this.report?.scenarios.map((s) => this.#renderScenario(s))}
      ${this.report?.pipeline ? this.#renderPipeline(this.report.pipeline) : nothing}
      ${this.report?.framePipeline?.length ? this.#renderFramePipeline(this.report.framePipeline) : nothing}
      ${this.report?.skipped.map((s) => html`<p class="extras" data-skipped=${s.id}>${s.id}: not run: ${s.reason}</p>`)}
    </div>`;
  }

  #renderAdapter() {
    const report = this.report;
    if (!report) return nothing;
    const { vendor, architecture, device, description } = report.adapter;
    return html`<p class="status" data-adapter>
      Adapter: ${vendor || '?'} / ${architecture || '?'} ${device} ${description} · cross-origin isolated: ${report.crossOriginIsolated ? 'yes' : 'no'} · timer step ${(report.timerResolutionMs * 1000).toFixed(1)} µs · ${report.quick ? 'quick run' : 'full run'}, ${report.finishedAt}
    </p>`;
  }

  #renderProgress() {
    const progress = this.progress;
    if (!progress || this.phase === 'idle') return nothing;
    return html`<progress max=${progress.total} .value=${progress.done}></progress>
      <span class="status">${progress.done}/${progress.total} ${progress.label}</span>`;
  }

  /** A pipeline table; `roles` gives each row's class (the variant's role: ours stands out). */
  #renderPipelineTable({ heading, rows }: TableRows, roles: readonly string[]) {
    return html`<table>
      <thead><tr>${heading.map((h) => html`<th>${h}</th>`)}</tr></thead>
      <tbody>${rows.map((row, i) => html`<tr class=${roles[i] ?? ''}>${row.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
    </table>`;
  }

  /** Each result's variant's role, in the order of the results. */
  #roles(pipeline: PipelineResult): string[] {
    const roles = new Map(pipeline.variants.map((v) => [v.id, v.role]));
    return pipeline.results.map((r) => roles.get(r.variant) ?? '');
  }

  #renderFramePipeline(sizes: readonly PipelineResult[]) {
    const first = sizes[0];
    if (!first) return nothing;
    return html`<section data-scenario=${first.id}>
      <h2>${first.id}: ${first.title}</h2>
      <p class="measures">${first.measures}</p>
      ${this.#renderPipelineTable(framePipelineRows(sizes), sizes.flatMap((p) => this.#roles(p)))}
      <div class="extras">Source ${first.cameraPath ?? '?'}, rate ${sourceRate(first)}.</div>
      ${framePipelineNotes(sizes).map((note) => html`<div class="extras">${note}</div>`)}
      ${sizes.flatMap((p) => p.targets ?? []).map((t) => this.#renderTarget(t))}
    </section>`;
  }

  #renderPipeline(pipeline: PipelineResult) {
    return html`<section data-scenario=${pipeline.id}>
      <h2>${pipeline.id}: ${pipeline.title}</h2>
      <p class="measures">${pipeline.measures}</p>
      ${this.#renderPipelineTable(pipelineRows(pipeline), this.#roles(pipeline))}
      <div class="extras">
        Frames ${pipeline.frame ? `${pipeline.frame.width} × ${pipeline.frame.height}` : '?'} from camera path ${pipeline.cameraPath ?? '?'}, camera rate ${sourceRate(pipeline)}.
        ${mainThreadNote(pipeline)}
      </div>
      ${(pipeline.targets ?? []).map((t) => this.#renderTarget(t))}
    </section>`;
  }

  #renderTarget(target: TargetResult) {
    return html`<div class="extras" data-target=${target.id} data-verdict=${target.verdict}>Target ${targetText(target)}</div>`;
  }

  #renderScenario(scenario: ScenarioResult) {
    const variants = new Map(scenario.variants.map((v) => [v.id, v]));
    const unit = scenario.metric === 'throughput' ? 'GB/s' : 'µs/op';
    return html`<section data-scenario=${scenario.id}>
      <h2>${scenario.id}: ${scenario.title}</h2>
      <p class="measures">${scenario.measures}</p>
      <table>
        <thead><tr><th>size</th><th>variant</th><th>median ${unit}</th><th>min..max</th><th>${ratioHeading(scenario)}</th></tr></thead>
        <tbody>
          ${scenario.points.flatMap((point) => point.results.map((result) => {
            const variant = variants.get(result.variant);
            const { median, range } = figureText(scenario, result);
            return html`<tr class=${variant?.role ?? ''}><td>${formatSize(point.size)}</td><td>${variant?.label ?? result.variant}</td><td>${median}</td><td>${range}</td><td>${ratioText(result.ratio)}</td></tr>`;
          }))}
        </tbody>
      </table>
      ${scenario.points.map((p) => html`<div class="extras">${formatSize(p.size)}: ${Object.entries(p.extras).map(([key, value]) => `${key} ${value}`).join(', ')}</div>`)}
      <div class="chart" part="chart" data-chart=${scenario.id}></div>
    </section>`;
  }
}
