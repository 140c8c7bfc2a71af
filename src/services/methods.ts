import type { Prisma, PrismaClient, IdentificationMethod } from '../generated/prisma/client.js';
import { METHOD_CATALOGUE, matchesMethodFilter, type IdentificationMethodDefinition, type MethodFilter } from '../domain/catalogue.js';

/**
 * Writes the catalogue into the database, idempotently, in one transaction. The TEST method is
 * enabled only in test mode, so it exists for callers exactly while SRS_TEST_MODE is on; a
 * method whose issuer no partner serves (`served`, see partners/registry.ts) is not offered.
 */
export async function seedCatalogue(prisma: PrismaClient, testMode: boolean, served: (issuer: string) => boolean = () => true): Promise<void> {
  await prisma.$transaction(
    METHOD_CATALOGUE.map((method, position) => {
      const data = { ...toRow(method), position, enabled: (!method.testOnly || testMode) && served(method.issuer) };
      return prisma.identificationMethod.upsert({ where: { id: method.id }, create: data, update: data });
    }),
  );
}

function toRow(method: IdentificationMethodDefinition) {
  return {
    ...method,
    capabilities: method.capabilities as unknown as Prisma.InputJsonArray,
    initialData: method.initialData as unknown as Prisma.InputJsonArray,
  };
}

/** The enabled methods that fit the filter, in catalogue order; `query` is Pothos' selection. */
export async function listIdentificationMethods(
  prisma: PrismaClient,
  query: { select?: Prisma.IdentificationMethodSelect },
  filter: MethodFilter | null | undefined,
): Promise<IdentificationMethod[]> {
  const methods = await prisma.identificationMethod.findMany({ ...query, where: { enabled: true }, orderBy: { position: 'asc' } });
  return methods.filter((method) => matchesMethodFilter(asDefinition(method), filter ?? {}));
}

/** The stored JSON columns, typed as the catalogue wrote them. */
export function asDefinition(method: IdentificationMethod): IdentificationMethodDefinition {
  return method as unknown as IdentificationMethodDefinition;
}
