/**
 * transformers CLIPTextModel -> last_hidden_state (after final_layer_norm; no projection, no clip skip).
 * The causal mask is always applied; padding tokens are attended to (no padding mask), as in the
 * official code, which calls the encoder without an attention mask.
 */
import { z } from 'zod';
import { GraphBuilder } from './builder.js';
import type { ComputeDtype } from './builder.js';
import { attention, gelu, layerNorm, linear, quickGelu } from './nn.js';
import type { Ctx } from './nn.js';
import { configCount, configError, configSize, configVocab } from './config.js';
import { Weights } from './weights.js';
import type { WeightSource } from './weights.js';

export const ClipTextConfigSchema = z
  .object({
    vocab_size: configVocab(),
    hidden_size: configSize(),
    intermediate_size: configSize(),
    num_hidden_layers: configCount(),
    num_attention_heads: configCount(),
    max_position_embeddings: configSize(),
    hidden_act: z.enum(['quick_gelu', 'gelu']),
    layer_norm_eps: z.number().positive(),
  })
  .loose()
  .refine((c) => c.hidden_size % c.num_attention_heads === 0, { message: 'hidden_size must be divisible by num_attention_heads', path: ['num_attention_heads'] });
export type ClipTextConfig = z.infer<typeof ClipTextConfigSchema>;

export interface BuiltGraph {
  readonly builder: GraphBuilder;
  readonly weights: Weights;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Inputs: input_ids int64 [batch, max_position_embeddings]. Output: last_hidden_state float32 [batch, L, hidden]. */
export function buildClipText(config: ClipTextConfig, source: WeightSource, dtype: ComputeDtype): BuiltGraph {
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, source);
  const ctx: Ctx = { g, w };
  const D = config.hidden_size;
  const H = config.num_attention_heads;
  const L = config.max_position_embeddings;
  const headDim = D / H;
  if (!Number.isInteger(headDim)) throw configError(source.label, `hidden_size ${D} is not divisible by num_attention_heads ${H}`);

  const ids = g.input('input_ids', 'int64', ['batch', L]);
  const tokens = g.op('Gather', [w.get('text_model.embeddings.token_embedding.weight', [config.vocab_size, D]), ids], { axis: 0 });
  let x = g.op('Add', [tokens, w.get('text_model.embeddings.position_embedding.weight', [L, D])]);
  // Causal mask: -inf above the diagonal. torch uses finfo(float32).min; any value that makes exp() 0 is equivalent.
  const maskValues: number[] = [];
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) maskValues.push(j > i ? -3.4028234663852886e38 : 0);
  const mask = g.constant('float32', maskValues, [L, L]);
  const act = config.hidden_act === 'quick_gelu' ? quickGelu : gelu;

  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `text_model.encoder.layers.${i}`;
    const h = layerNorm(ctx, x, `${p}.layer_norm1`, D, config.layer_norm_eps);
    const q = linear(ctx, h, `${p}.self_attn.q_proj`, D, D);
    const k = linear(ctx, h, `${p}.self_attn.k_proj`, D, D);
    const v = linear(ctx, h, `${p}.self_attn.v_proj`, D, D);
    const a = linear(ctx, attention(ctx, q, k, v, H, headDim, mask), `${p}.self_attn.out_proj`, D, D);
    x = g.op('Add', [x, a]);
    const h2 = layerNorm(ctx, x, `${p}.layer_norm2`, D, config.layer_norm_eps);
    const m = linear(ctx, act(ctx, linear(ctx, h2, `${p}.mlp.fc1`, D, config.intermediate_size)), `${p}.mlp.fc2`, config.intermediate_size, D);
    x = g.op('Add', [x, m]);
  }
  x = layerNorm(ctx, x, 'text_model.final_layer_norm', D, config.layer_norm_eps);
  if (dtype === 'float16') x = g.op('Cast', [x], { to: 1 });
  g.output(x, 'last_hidden_state', 'float32', ['batch', L, D]);
  return { builder: g, weights: w, inputs: ['input_ids'], outputs: ['last_hidden_state'] };
}
