/**
 * The panel's controls, made once: Spectrum UXP widgets inside Photoshop (sp-button, sp-slider,
 * sp-textfield, sp-progressbar), plain HTML controls elsewhere (the Chromium tests), behind the same
 * factory so the view runs unchanged in both. UXP lacks `dataset`: attributes are set with setAttribute.
 */
export type ValueElement = HTMLElement & { value: string | number };

export class Widgets {
  private readonly spectrum: boolean;
  constructor(spectrum: boolean) {
    this.spectrum = spectrum;
  }

  el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  button(label: string, variant: 'cta' | 'primary' | 'secondary', testId: string): HTMLElement {
    const b = this.spectrum ? document.createElement('sp-button') : document.createElement('button');
    if (this.spectrum) b.setAttribute('variant', variant);
    b.className = `btn btn-${variant}`;
    b.textContent = label;
    b.setAttribute('data-testid', testId);
    return b;
  }

  slider(min: number, max: number, testId: string, label: string): ValueElement {
    let s: ValueElement;
    if (this.spectrum) {
      s = document.createElement('sp-slider') as unknown as ValueElement;
      s.setAttribute('min', String(min));
      s.setAttribute('max', String(max));
      s.setAttribute('show-value', 'false');
    } else {
      const input = document.createElement('input');
      input.type = 'range';
      input.min = String(min);
      input.max = String(max);
      s = input;
    }
    s.className = 'slider';
    s.setAttribute('data-testid', testId);
    s.setAttribute('aria-label', label);
    return s;
  }

  textfield(type: 'text' | 'number' | 'password', testId: string, label: string): ValueElement {
    let t: ValueElement;
    if (this.spectrum) {
      t = document.createElement('sp-textfield') as unknown as ValueElement;
      t.setAttribute('type', type);
    } else {
      const input = document.createElement('input');
      input.type = type;
      t = input;
    }
    t.className = `field field-${type}`;
    t.setAttribute('data-testid', testId);
    t.setAttribute('aria-label', label);
    return t;
  }

  /** Native <select>: UXP renders it as a Spectrum dropdown, browsers as theirs. */
  select(options: readonly { value: string; label: string }[], testId: string, label: string): HTMLSelectElement {
    const s = document.createElement('select');
    s.className = 'select';
    s.setAttribute('data-testid', testId);
    s.setAttribute('aria-label', label);
    setOptions(s, options);
    return s;
  }

  progress(testId: string): ValueElement {
    let p: ValueElement;
    if (this.spectrum) {
      p = document.createElement('sp-progressbar') as unknown as ValueElement;
      p.setAttribute('max', '100');
    } else {
      const bar = document.createElement('progress');
      bar.max = 100;
      p = bar as unknown as ValueElement;
    }
    p.className = 'progress';
    p.setAttribute('data-testid', testId);
    return p;
  }
}

/** Replaces the options of a <select> only when they differ (keeps the selection and focus). */
export function setOptions(s: HTMLSelectElement, options: readonly { value: string; label: string }[]): void {
  const current = Array.from(s.options).map((o) => `${o.value}|${o.text}`).join(',');
  const next = options.map((o) => `${o.value}|${o.label}`).join(',');
  if (current === next) return;
  s.textContent = '';
  for (const o of options) {
    const option = document.createElement('option');
    option.value = o.value;
    option.textContent = o.label;
    s.appendChild(option);
  }
}

/** A field's number; NaN for an empty field or text that is not a number (callers keep the value they had). */
export function numberOf(e: ValueElement): number {
  const text = String(e.value).trim();
  return text === '' ? Number.NaN : Number(text);
}

export function labelled(w: Widgets, text: string, field: HTMLElement): HTMLElement {
  const l = w.el('label', 'inline');
  l.append(w.el('span', 'muted', text), field);
  return l;
}

export function setDisabled(e: HTMLElement, disabled: boolean): void {
  if (disabled) e.setAttribute('disabled', '');
  else e.removeAttribute('disabled');
}
