import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from './config.js';
import { pluginSchemas, registerBuiltins, teacherFreeMethods } from './plugins.js';

type Schema = Record<string, unknown>;

/** JSON pointers of every property schema (at any depth, plugin params included) that has no description. */
function undescribed(schema: unknown, path = '#'): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  if (Array.isArray(schema)) return schema.flatMap((s, i) => undescribed(s, `${path}/${i}`));
  const out: string[] = [];
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, property] of Object.entries(value as Schema)) {
        const here = `${path}/properties/${name}`;
        const text = (property as Schema).description;
        if (typeof text !== 'string' || text.trim() === '') out.push(here);
        out.push(...undescribed(property, here));
      }
    } else if (key === 'then') {
      // "if name is n, then params follow n's schema": the field is described where it is declared;
      // what is checked here is every parameter inside.
      for (const [name, property] of Object.entries(((value as Schema).properties ?? {}) as Schema)) out.push(...undescribed(property, `${path}/then/properties/${name}`));
    } else if (key !== 'if' && key !== 'examples' && key !== 'default' && key !== 'const' && key !== 'enum') {
      out.push(...undescribed(value, `${path}/${key}`));
    }
  }
  return out;
}

const container = rootContainer.createChildContainer();
registerBuiltins(container);
const published = configJsonSchema(pluginSchemas(container), teacherFreeMethods(container)) as Schema;

describe('the published config JSON Schema', () => {
  it('describes every field, at every depth, with every built-in plugin\'s params', () => {
    expect(undescribed(published)).toEqual([]);
    // The walk reaches plugin params and nested objects, so an undescribed one would be listed.
    expect(undescribed({ properties: { a: { description: 'x', properties: { b: { type: 'number' } } } } })).toEqual(['#/properties/a/properties/b']);
    expect(JSON.stringify(published)).toContain('"temperature"');
  });

  it("offers for teacher.method only the methods that need no teacher, with their params", () => {
    const teacher = (published.properties as Record<string, Schema>).teacher!;
    const offered = ((teacher.properties as Record<string, Schema>).method!.examples as string[]).sort();
    expect(offered).toEqual(expect.arrayContaining(['standard', 'pgd-at', 'trades']));
    for (const needsTeacher of ['ard', 'kd', 'crdnd']) expect(offered).not.toContain(needsTeacher);
    const conditional = (teacher.allOf as Array<{ if: { properties: { method: { const?: string; enum?: string[] } } } }>).map(
      (c) => c.if.properties.method.const ?? c.if.properties.method.enum![0],
    );
    expect(conditional.sort()).toEqual(offered);
    // Students may use every method.
    const students = (published.properties as Record<string, Schema>).students!.items as Schema;
    expect((students.properties as Record<string, Schema>).method!.examples).toEqual(expect.arrayContaining(['ard', 'kd', 'standard']));
  });
});
